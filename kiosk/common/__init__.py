"""What every staff desk shares: the page frame and navigation, PIN login, the signed-in session, formatting."""
