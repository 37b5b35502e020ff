"""Customer service's desks: the follow-up call lists and the complaints."""
