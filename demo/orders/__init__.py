"""The orders service: customers place field-service orders, dispatchers assign them,
technicians start and complete them. Every change is written to PostgreSQL and then
published on NATS JetStream (stream ``ORDERS``, subjects ``orders.created`` ...).
"""
