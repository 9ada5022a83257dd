"""A Python function whose handler raises."""


class OrderRejected(Exception):
    pass


def handler(event, context):
    raise OrderRejected(f"order {event.get('orderId')} rejected")
