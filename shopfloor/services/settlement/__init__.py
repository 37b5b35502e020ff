"""Steps 9–11 (domain.md §4): the completion check, settlement and payment, delivery with the next-service
reminder, and the settlement list's documents (JT/T 1133 list, JT/T 1132 export)."""
