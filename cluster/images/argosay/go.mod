module sluice.local/argosay

go 1.22
