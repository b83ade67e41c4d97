"""`sluice run`: run a workflow on this machine with the same engine as the controller (local processes
instead of pods). See driver.py for the loop, localpod.py for how a pod becomes a process."""
