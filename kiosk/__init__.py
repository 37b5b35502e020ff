"""Staff touch screens, one subpackage per desk (reception, booking, calls, manager, data); common/ holds the frame."""
