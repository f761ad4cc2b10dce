"""Running probed as a service: the composition root, the daemon lifecycle and sd_notify."""
