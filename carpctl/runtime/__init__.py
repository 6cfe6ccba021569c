"""What a run shares: the session and its connections, the pair lock, the journal, signals."""
