"""Step 12 (domain.md §5): the follow-up calls (3DC, the new car's 7-day call, a complaint's second call) and
complaints with their deadlines and escalation."""
