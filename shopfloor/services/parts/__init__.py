"""The parts counter (step 7 of the lane): the catalogue and its CSV import, pick lists, issue, back-orders, returns."""
