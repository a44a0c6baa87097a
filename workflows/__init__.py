"""Services: every state change of the product goes through a function in this package."""
