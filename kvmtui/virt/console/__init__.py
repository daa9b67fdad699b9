"""A VM's serial or text console: which devices it has, and a stream to one of them."""
