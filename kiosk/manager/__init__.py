"""The service manager's desk: the plan board (/manager/board) and the figures (/manager/figures)."""
