"""The base of the API's own response bodies. The entities inside them (an appointment, a repair order, a
technician, a day's capacity) are the bus's models from shopfloor/contract/entity_states.py, so a route
answers them exactly as the boards receive them."""

from pydantic import BaseModel, ConfigDict


class Shape(BaseModel):
    """A response body. Extra keys are refused rather than dropped: a key a service starts to return fails the
    tests until the contract (this model) says so, instead of silently vanishing from the answer."""

    model_config = ConfigDict(extra="forbid")
