module sluice.local/launcher

go 1.22
