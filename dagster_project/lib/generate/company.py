"""The fictional demo company behind the generated billing data.

Plain data only, so dbt seeds, docs and tests can import the exact identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANY_NAME = "mlcost-demo"
COMPANY_DOMAIN = "mlcost-demo.com"
CURRENCY = "USD"

# Canonical tag / label keys the company *intends* everyone to use.
CANONICAL_TAG_KEYS = ("team", "model", "workload", "owner")

WORKLOADS = (
    "experimentation",
    "training",
    "batch_inference",
    "realtime_inference",
    "data_processing",
    "storage",
    "shared",
)


@dataclass(frozen=True)
class Team:
    name: str
    description: str


TEAMS: tuple[Team, ...] = (
    Team("search-ranking", "Query ranking and document embeddings for site search"),
    Team("fraud-detection", "Real-time payment fraud scoring (Azure)"),
    Team("recommendations", "Product recommendations and churn prediction"),
    Team("ml-platform", "Platform team owning shared data, tooling and commitments"),
)
TEAM_NAMES = tuple(t.name for t in TEAMS)


@dataclass(frozen=True)
class Model:
    name: str
    team: str
    provider: str
    description: str


MODELS: tuple[Model, ...] = (
    Model("query-ranker", "search-ranking", "aws", "Learning-to-rank model behind search"),
    Model("doc-embedder", "search-ranking", "aws", "Document embedding model; endpoint launched "
          "mid-series, trained on GCP A100s"),
    Model("fraud-scorer", "fraud-detection", "azure", "Payment fraud classifier on Azure ML"),
    Model("recsys-two-tower", "recommendations", "aws", "Two-tower retrieval model on EC2 GPUs"),
    Model("churn-predictor", "recommendations", "gcp", "Churn model on Vertex AI"),
)
MODEL_NAMES = tuple(m.name for m in MODELS)


@dataclass(frozen=True)
class Person:
    name: str
    team: str
    provider: str
    environment: str


# Data scientists; each owns one experimentation environment.
PEOPLE: tuple[Person, ...] = (
    Person("alice", "search-ranking", "aws", "SageMaker Studio JupyterLab ml.g5.xlarge"),
    Person("bob", "search-ranking", "aws", "SageMaker notebook instance ml.t3.medium"),
    Person("ivan", "search-ranking", "aws", "EC2 p3.2xlarge dev box (untagged)"),
    Person("frank", "recommendations", "aws", "SageMaker Studio JupyterLab ml.g5.xlarge"),
    Person("heidi", "ml-platform", "aws", "EC2 g5.xlarge dev box"),
    Person("erin", "recommendations", "gcp", "Vertex AI Workbench n1-standard-8 + T4"),
    Person("grace", "recommendations", "gcp", "Vertex AI Workbench n1-standard-4"),
    Person("carol", "fraud-detection", "azure", "Azure ML compute instance NC6s v3"),
    Person("dan", "fraud-detection", "azure", "Azure ML compute instance DS3 v2"),
    Person("judy", "fraud-detection", "azure", "Azure ML compute instance DS11 v2"),
)

# ---------------------------------------------------------------------------- AWS
AWS_PAYER_ACCOUNT_ID = "111111111111"
AWS_PAYER_ACCOUNT_NAME = "mlcost-demo-payer"
AWS_REGION = "us-east-1"


@dataclass(frozen=True)
class AwsAccount:
    account_id: str
    name: str
    # Team every cost in the account belongs to, when the account is single-team.
    default_team: str | None


AWS_ACCOUNTS: tuple[AwsAccount, ...] = (
    AwsAccount(AWS_PAYER_ACCOUNT_ID, AWS_PAYER_ACCOUNT_NAME, "ml-platform"),
    AwsAccount("222222222222", "ml-prod", None),
    AwsAccount("333333333333", "ml-sandbox", None),
    AwsAccount("444444444444", "data-platform", "ml-platform"),
    AwsAccount("555555555555", "shared-services", "ml-platform"),
)
AWS_ACCOUNT_NAMES = {a.account_id: a.name for a in AWS_ACCOUNTS}
AWS_ML_PROD = "222222222222"
AWS_SANDBOX = "333333333333"
AWS_DATA = "444444444444"
AWS_SHARED = "555555555555"

# ---------------------------------------------------------------------------- GCP
GCP_BILLING_ACCOUNT_ID = "01A2B3-C4D5E6-F7A8B9"
GCP_ORGANIZATION = ("organizations/804455126573", COMPANY_DOMAIN)
GCP_FOLDER = ("folders/318822904471", "ml")


@dataclass(frozen=True)
class GcpProject:
    project_id: str
    number: str
    name: str
    default_team: str
    labels: tuple[tuple[str, str], ...]


GCP_PROJECTS: tuple[GcpProject, ...] = (
    GcpProject("search-prod-381204", "381204558711", "search-prod", "search-ranking",
               (("team", "search-ranking"), ("env", "prod"))),
    GcpProject("recsys-exp-190233", "190233774102", "recsys-exp", "recommendations",
               (("team", "recommendations"), ("env", "dev"))),
    GcpProject("shared-data-552100", "552100339846", "shared-data", "ml-platform",
               (("env", "prod"),)),
)
GCP_PROJECT_BY_ID = {p.project_id: p for p in GCP_PROJECTS}
GCP_SEARCH = "search-prod-381204"
GCP_RECSYS = "recsys-exp-190233"
GCP_SHARED = "shared-data-552100"

# ---------------------------------------------------------------------------- Azure
AZURE_BILLING_ACCOUNT_ID = "87654321"
AZURE_BILLING_ACCOUNT_NAME = "mlcost-demo EA"
AZURE_ENROLLMENT_ACCOUNT_NAME = "ML Engineering"
AZURE_ACCOUNT_OWNER = f"ml-eng@{COMPANY_DOMAIN}"
AZURE_COST_CENTER = "ML-4200"
AZURE_OFFER_ID = "MS-AZR-0017P"


@dataclass(frozen=True)
class AzureSubscription:
    subscription_id: str
    name: str
    default_team: str


AZURE_SUBSCRIPTIONS: tuple[AzureSubscription, ...] = (
    AzureSubscription("5f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f", "fraud-prod", "fraud-detection"),
    AzureSubscription("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "fraud-dev", "fraud-detection"),
)
AZURE_SUB_BY_NAME = {s.name: s for s in AZURE_SUBSCRIPTIONS}

# Who pays the W&B marketplace seats, in % (the shared-cost rule ml_tooling_marketplace,
# seeds/shared_cost_fixed_shares.csv; tests/test_budget_burndown_demo.py checks they agree).
MARKETPLACE_SEAT_SHARES = {"search-ranking": 35, "recommendations": 35, "fraud-detection": 20,
                           "ml-platform": 10}

# ---------------------------------------------------------------------------- exports
AWS_EXPORT_NAME = "mlcost-cur2"
AZURE_EXPORT_ACTUAL = "mlcost-actual"
AZURE_EXPORT_AMORTIZED = "mlcost-amortized"

# The planted tag messiness, documented so tests and docs can refer to it.
TAG_KEY_VARIANTS = {
    "aws": ("user_team", "user_owner_team"),
    "gcp": ("team", "owner-team"),
    "azure": ("team", "Team", "owner-team"),
}
TAG_VALUE_VARIANTS = {
    "Search-Ranking": "search-ranking",
    "search_ranking": "search-ranking",
    "fraud": "fraud-detection",
}
