"""Bookings: slots with capacity at a store, booked and paid at the store, with a voucher, or online; attendance
at the counter."""
