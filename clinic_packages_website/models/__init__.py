from . import payment_transaction, product_template
