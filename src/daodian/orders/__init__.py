"""Orders, vouchers and their verification, bookings."""
