"""Sample data behind the demo fleet's RDS instances, and the data checks that guard it.

Only with ``LocalCloud(databases=True)``: each demo instance gets a small shop database
(customers, orders) in the local PostgreSQL, credentials in Secrets Manager, and the config
gains level-2 checks for the databases drills and restores verify.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lifeboat.local.runtime import LocalCloud

SECRET_NAME = "lifeboat/local/postgres"  # noqa: S105 - the name of a secret, not a password
# Databases with level-2 checks in the demo config.
CHECKED_DATABASES = ("orders-db", "payments-db")

# Orders arrive every 10 minutes up to now, so a restore's data age is measurable.
SAMPLE_SCHEMA = """
CREATE TABLE customers (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers (id),
    amount_cents int NOT NULL CHECK (amount_cents >= 0),
    created_at timestamptz NOT NULL
);
CREATE INDEX orders_by_customer ON orders (customer_id);
INSERT INTO customers (email, created_at)
    SELECT 'customer' || g || '@example.com', now() - interval '90 days' + g * interval '1 hour'
    FROM generate_series(1, 500) AS g;
INSERT INTO orders (customer_id, amount_cents, created_at)
    SELECT 1 + g % 500, (g * 37) % 100000, now() - (4000 - g) * interval '10 minutes'
    FROM generate_series(1, 4000) AS g;
"""


def data_checks(secret_arn: str) -> dict[str, Any]:
    """The level-2 checks of one shop database (the config document's ``dataChecks`` entry)."""
    return {
        "secretArn": secret_arn,
        "database": "shop",
        "tables": [
            {"name": "public.orders", "key": "id", "rowCountTolerancePercent": 1},
            {"name": "public.customers", "key": "id", "rowCountTolerancePercent": 0},
        ],
        "canary": {"sql": "SELECT count(*) FROM customers WHERE email LIKE '%@example.com'"},
        "freshnessSql": "SELECT max(created_at) FROM orders",
    }


def add_sample_databases(cloud: LocalCloud, instances: dict[str, str], config: dict[str, Any]) -> None:
    """Fill every demo instance's database (name -> ARN) and add data checks for CHECKED_DATABASES
    to the config document, which is stored again."""
    plane = cloud.data_plane
    if plane is None:
        raise RuntimeError("sample databases need LocalCloud(databases=True)")
    for name in instances:
        plane.run_sql(cloud.region, name, SAMPLE_SCHEMA)
    secret = cloud.client("secretsmanager").create_secret(
        Name=SECRET_NAME,
        SecretString='{"username": "postgres", "password": "local-mode-trusts-the-socket"}',
    )
    config["dataChecks"] = {
        arn: data_checks(secret["ARN"]) for name, arn in instances.items() if name in CHECKED_DATABASES
    }
    cloud.put_config(config)
