"""OpenBSD's own tools as the lab emulates them; each module keeps a Registry."""
