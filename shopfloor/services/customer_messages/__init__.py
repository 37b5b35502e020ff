"""Messages to customers in the channel they chose (SMS, WeChat, e-mail, by hand): queued in the transaction of
the change that causes them, sent once by the sender from their own outbox, their delivery state on the order."""
