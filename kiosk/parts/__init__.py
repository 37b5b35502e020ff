"""The parts counter (step 7): catalogue, pick lists, issue, back-orders and returns."""
