"""The consumer's purchase: coupons, member discounts and points applied to a new order (and given back when it
closes), and the checkout, order and voucher pages."""
