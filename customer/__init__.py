"""The customer's own page (/c/<token>): the car's step, the walkaround, the estimate and decisions on additional
work, on the customer's phone over the dealership's Wi-Fi."""
