"""Delivery to the door and services at home: couriers, their shifts and positions, deliveries and their states, tracking, the dispatch board."""
