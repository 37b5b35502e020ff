"""The cashier's desk: the settlement, payments (split, change, references) and refunds."""
