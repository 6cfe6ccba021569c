"""pf.conf and relayd.conf as the lab reads them, and relayctl's view of relayd."""
