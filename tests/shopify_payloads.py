"""Webhook bodies shaped like the examples in Shopify's documentation (REST Admin API order and
checkout objects, trimmed of fields smsbot never reads), and their signature."""

import base64
import copy
import hashlib
import hmac
import json
from typing import Any

SECRET = "shpss_test_secret"

ORDER: dict[str, Any] = {
    "id": 820982911946154508,
    "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
    "name": "#9999",
    "order_number": 1234,
    "email": "jon@example.com",
    "phone": None,
    "browser_ip": "203.0.113.7",
    "buyer_accepts_marketing": True,
    "cancel_reason": None,
    "cancelled_at": None,
    "checkout_token": "d9a4d5f1a8e6a0b2c3d4e5f6a7b8c9d0",
    "created_at": "2026-11-26T10:00:00-05:00",
    "processed_at": "2026-11-26T10:00:02-05:00",
    "updated_at": "2026-11-26T10:00:05-05:00",
    "currency": "USD",
    "presentment_currency": "USD",
    "financial_status": "paid",
    "fulfillment_status": None,
    "subtotal_price": "388.00",
    "total_price": "398.00",
    "total_tax": "0.00",
    "order_status_url": "https://jsmith.myshopify.com/548380009/orders/123456abcd/authenticate?key=abcdefg",
    "customer": {
        "id": 115310627314723954,
        "email": "john@example.com",
        "first_name": "John",
        "last_name": "Smith",
        "phone": "(415) 555-0123",
        "default_address": {"address1": "123 Elm St.", "city": "Ottawa", "phone": "123-123-1234"},
    },
    "billing_address": {
        "first_name": "Steve",
        "address1": "123 Shipping Street",
        "phone": "555-555-SHIP",
        "city": "Shippington",
        "zip": "40003",
        "country": "United States",
    },
    "shipping_address": {"first_name": "Steve", "address1": "123 Shipping Street", "phone": "555-555-SHIP"},
    "payment_gateway_names": ["visa", "bogus"],
    "payment_details": {"credit_card_bin": "424242", "credit_card_number": "•••• •••• •••• 4242"},
    "line_items": [
        {
            "id": 866550311766439020,
            "name": "IPod Nano - 8GB",
            "title": "IPod Nano - 8GB",
            "price": "199.00",
            "product_id": 632910392,
            "variant_id": 808950810,
            "quantity": 1,
            "sku": "IPOD2008PINK",
            "vendor": None,
        },
        {
            "id": 141249953214522974,
            "name": "IPod Nano - 8GB",
            "title": "IPod Nano - 8GB",
            "price": "199.00",
            "product_id": 632910392,
            "variant_id": 808950810,
            "quantity": 1,
            "sku": "IPOD2008PINK",
        },
    ],
    "fulfillments": [],
}

CHECKOUT: dict[str, Any] = {
    "id": 981820079255243537,
    "token": "123123123",
    "cart_token": "eeafa272cebfd4b22385bc4b645e762c",
    "email": "example@email.com",
    "phone": "+1 (415) 555-0123",
    "created_at": "2026-11-26T09:00:00-05:00",
    "updated_at": "2026-11-26T09:00:00-05:00",
    "completed_at": None,
    "abandoned_checkout_url": "https://checkout.local/548380009/checkouts/123123123/recover?key=example-secret-token",
    "currency": "USD",
    "presentment_currency": "USD",
    "subtotal_price": "398.00",
    "total_price": "398.00",
    "customer": {"id": 603851970716743426, "email": "john@example.com", "first_name": "John", "phone": None},
    "billing_address": {"address1": "123 Billing Street", "phone": "555-555-BILL"},
    "line_items": [
        {
            "key": "c1c0f8a2",
            "title": "Trail runner",
            "variant_title": "Red / 10",
            "price": "199.00",
            "quantity": 2,
            "product_id": 632910392,
            "sku": "TR-RED-10",
            "image_url": "https://cdn.shopify.com/s/files/1/trail-runner.png",
        }
    ],
}


def fulfilled() -> dict[str, Any]:
    order = copy.deepcopy(ORDER)
    order["fulfillment_status"] = "fulfilled"
    order["updated_at"] = "2026-11-27T08:30:00-05:00"
    order["fulfillments"] = [
        {
            "id": 255858046,
            "status": "success",
            "tracking_company": "UPS",
            "tracking_number": "1Z2345",
            "tracking_numbers": ["1Z2345"],
            "tracking_url": "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1Z2345",
            "tracking_urls": ["https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1Z2345"],
        }
    ]
    return order


def body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def signature(raw: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def headers(topic: str, webhook_id: str, raw: bytes, secret: str = SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Hmac-Sha256": signature(raw, secret),
        "X-Shopify-Shop-Domain": "jsmith.myshopify.com",
        "X-Shopify-API-Version": "2025-10",
        "X-Shopify-Triggered-At": "2026-11-26T15:00:06.000000Z",
    }
