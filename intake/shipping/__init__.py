"""Shipping labels: the carrier service the pharmacy buys labels from, chosen by SHIPPING_BACKEND."""
