"""Reception (domain.md §3, steps 3–5): the walkaround, photos, the estimate and its signatures, the customer's page."""
