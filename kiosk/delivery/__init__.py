"""The delivery desk: the completion check, telling the customer, the delivery walk and its sheet."""
