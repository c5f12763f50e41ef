"""Static checks of docker-compose.yml and deploy/, for a machine without a Docker engine.

Nothing here needs Docker: the compose file, the Dockerfile, the gateway's
nginx.conf and the gunicorn settings are read as files and checked against the
code they start (modules, console scripts) and against the settings parser
(`services.common.settings.KNOWN_VARIABLES`). nginx itself checks the gateway's
configuration (`nginx -t`). No `docker compose` validator is installable from
Debian's packages, so none is pretended: the checks here are the validation.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.support.infra import unavailable

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from services.common import settings as uwagi_settings  # noqa: E402

COMPOSE_FILE = REPO / "docker-compose.yml"
NGINX_CONF = REPO / "deploy" / "nginx" / "nginx.conf"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"
PROMETHEUS_CONF = REPO / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA = REPO / "deploy" / "grafana"
INIT_DB_SCRIPT = REPO / "deploy" / "postgres" / "init-databases.sh"

SERVICES = ("intake", "review", "documents", "notify")
ROLES = ("migrate", "web", "worker")
UWAGI_CONTAINERS = {f"{svc}-{role}" for svc in SERVICES for role in ROLES}
INFRASTRUCTURE = {"rabbitmq", "postgres", "minio", "minio-init", "mailcatcher", "gateway", "prometheus", "grafana"}
ONE_SHOT_JOBS = {"minio-init"} | {f"{svc}-migrate" for svc in SERVICES}
# Variables Uwagi containers may set beyond the settings parser's own.
RUNTIME_VARIABLES = {"WEB_CONCURRENCY", "PYTHONUNBUFFERED", "PROMETHEUS_MULTIPROC_DIR"}
DEPENDS_ON_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# What an operator puts in .env (deploy/env.example); stand-ins for the checks.
DUMMY_HOST_ENV = {
    "UWAGI_SECRET_KEY": "k" * 48,
    "UWAGI_DB_PASSWORD": "dbpassword0123",
    "UWAGI_BROKER_PASSWORD": "mqpassword0123",
    "UWAGI_S3_SECRET_KEY": "s3password0123",
    "UWAGI_METRICS_TOKEN": "metricstoken0123456",
    "UWAGI_GRAFANA_PASSWORD": "grafanapassword0123",
}


# --------------------------------------------------------------------------- helpers


class MissingVariable(LookupError):
    pass


_INTERPOLATION = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?", re.S)


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+a}."""

    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("named"):
            return env.get(match.group("named"), "")
        parts = _BRACED.fullmatch(match.group("braced"))
        if parts is None:
            raise ValueError(f"invalid interpolation {match.group(0)!r}")
        name, op, arg = parts.group("name"), parts.group("op"), parts.group("arg")
        current = env.get(name)
        if op is None:
            return current or ""
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if current is not None else arg
        if op == ":?":
            if not current:
                raise MissingVariable(f"{name}: {arg}")
            return current
        if op == "?":
            if current is None:
                raise MissingVariable(f"{name}: {arg}")
            return current
        if op == ":+":
            return arg if current else ""
        return arg if current is not None else ""  # "+"

    return _INTERPOLATION.sub(replace, value)


def walk_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from walk_strings(key)
            yield from walk_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk_strings(item)


def environment_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {k: v for k, v in pairs}
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def depends_on_of(service: dict) -> dict[str, dict]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return {name: (spec or {"condition": "service_started"}) for name, spec in deps.items()}


def command_of(service: dict) -> list[str]:
    command = service.get("command")
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command or []]


def healthcheck_command(service: dict) -> list[str]:
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, str):
        return ["CMD-SHELL", test]
    return [str(part) for part in test or []]


def find_module_file(module: str, *, runnable: bool = False) -> Path | None:
    """The file of `module` inside the repo: by import machinery when it can import the parents, else by path.

    With `runnable`, a package counts only if it has `__main__.py` (what `python -m` needs).
    """
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError, AttributeError):
        spec = None
    candidates: list[Path] = []
    if spec is not None:
        if spec.submodule_search_locations:
            candidates += [Path(loc) / "__main__.py" if runnable else Path(loc) / "__init__.py"
                           for loc in spec.submodule_search_locations]
        elif spec.origin and spec.origin not in {"built-in", "frozen"}:
            candidates.append(Path(spec.origin))
    base = REPO.joinpath(*module.split("."))
    candidates += [base.with_suffix(".py"), base / ("__main__.py" if runnable else "__init__.py")]
    for path in candidates:
        if path.is_file() and path.resolve().is_relative_to(REPO):
            return path
    return None


def top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def nginx_parse(text: str) -> list:
    """nginx.conf as a tree of (name, args, children|None). Only what the checks need."""
    text = re.sub(r"(?m)(^|\s)#.*$", r"\1", text)
    tokens = re.findall(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[{};]|[^\s{};]+", text)
    position = 0

    def block(depth: int) -> list:
        nonlocal position
        items, words = [], []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == ";":
                assert words, "empty directive in nginx.conf"
                items.append((words[0], words[1:], None))
                words = []
            elif token == "{":
                assert words, "block without a name in nginx.conf"
                items.append((words[0], words[1:], block(depth + 1)))
                words = []
            elif token == "}":
                assert depth > 0 and not words, "unbalanced '}' or unterminated directive in nginx.conf"
                return items
            else:
                words.append(token)
        assert depth == 0 and not words, "unbalanced '{' or unterminated directive in nginx.conf"
        return items

    return block(0)


def nginx_find(tree: list, name: str) -> list:
    return [item for item in tree if item[0] == name]


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents wins."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = pattern.strip("/")
        if pattern.startswith("**/"):
            matches = any(fnmatch.fnmatchcase(p.split("/")[-1], pattern[3:]) for p in prefixes)
        else:
            matches = any(fnmatch.fnmatchcase(p, pattern) and p.count("/") == pattern.count("/") for p in prefixes)
        if matches:
            excluded = not negate
    return excluded


@pytest.fixture(scope="module")
def compose() -> dict:
    with COMPOSE_FILE.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def nginx_tree() -> list:
    return nginx_parse(NGINX_CONF.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- compose structure


def test_compose_is_valid_yaml_with_the_expected_services(services):
    assert set(services) == UWAGI_CONTAINERS | INFRASTRUCTURE, (
        f"unexpected: {sorted(set(services) - UWAGI_CONTAINERS - INFRASTRUCTURE)}, "
        f"missing: {sorted(UWAGI_CONTAINERS | INFRASTRUCTURE - set(services))}"
    )
    for name, service in services.items():
        assert isinstance(service, dict), name
        assert service.get("image") or service.get("build"), f"{name} has neither image nor build"


def test_every_interpolation_is_well_formed_and_secrets_are_required(compose):
    for value in walk_strings(compose):
        interpolate(value, DUMMY_HOST_ENV)  # raises on malformed ${...} or a missing required value
    for name in DUMMY_HOST_ENV:
        without = {k: v for k, v in DUMMY_HOST_ENV.items() if k != name}
        with pytest.raises(MissingVariable):
            for value in walk_strings(compose):
                interpolate(value, without)


def test_no_secret_is_written_into_the_compose_file(services):
    secretish = re.compile(r"PASS|SECRET|PASSWORD|TOKEN", re.I)
    for name, service in services.items():
        for key, value in environment_of(service).items():
            if secretish.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", value), f"{name}: {key} must be ${{VAR:?…}}"
            for userinfo in re.findall(r"://[^/@\s]*:([^@/\s]+)@", value):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", userinfo), f"{name}: password in {key} is literal"
        assert "env_file" not in service, f"{name}: env_file hides variables from these checks"


def test_every_service_has_a_healthcheck_except_one_shot_jobs(services):
    one_shots = {name for name, s in services.items() if str(s.get("restart", "")) == "no"}
    assert one_shots == ONE_SHOT_JOBS, f"one-shot jobs (restart: \"no\"): {sorted(one_shots)}"
    for name, service in services.items():
        if name in ONE_SHOT_JOBS:
            continue
        assert service.get("restart") in {"always", "unless-stopped", "on-failure"}, f"{name}: restart policy"
        test = healthcheck_command(service)
        assert test and test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1, f"{name}: no healthcheck"
        assert not (service.get("healthcheck") or {}).get("disable"), f"{name}: healthcheck disabled"


def test_depends_on_targets_exist_with_valid_conditions_and_no_cycles(services):
    for name, service in services.items():
        for target, spec in depends_on_of(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            condition = spec.get("condition", "service_started")
            assert condition in DEPENDS_ON_CONDITIONS, f"{name} -> {target}: {condition}"
            if condition == "service_healthy":
                assert healthcheck_command(services[target]), f"{name} waits for {target} to be healthy; it has no healthcheck"
            if condition == "service_completed_successfully":
                assert target in ONE_SHOT_JOBS, f"{name} waits for {target} to complete; it is not a one-shot job"
            if target in ONE_SHOT_JOBS:
                assert condition == "service_completed_successfully", f"{name} -> one-shot {target}: {condition}"

    state: dict[str, str] = {}

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert state.get(node) != "visiting", f"depends_on cycle: {' -> '.join(path + (node,))}"
        if state.get(node) == "done":
            return
        state[node] = "visiting"
        for target in depends_on_of(services[node]):
            visit(target, path + (node,))
        state[node] = "done"

    for name in services:
        visit(name, ())


def test_uwagi_containers_wait_for_what_they_use(services):
    for svc in SERVICES:
        migrate = depends_on_of(services[f"{svc}-migrate"])
        assert migrate.get("postgres", {}).get("condition") == "service_healthy"
        for role in ("web", "worker"):
            deps = depends_on_of(services[f"{svc}-{role}"])
            expected = {
                "postgres": "service_healthy",
                "rabbitmq": "service_healthy",
                "minio-init": "service_completed_successfully",
                f"{svc}-migrate": "service_completed_successfully",
            }
            for target, condition in expected.items():
                assert deps.get(target, {}).get("condition") == condition, f"{svc}-{role} -> {target}"
    assert depends_on_of(services["notify-worker"]).get("mailcatcher", {}).get("condition") == "service_healthy"
    assert depends_on_of(services["minio-init"]).get("minio", {}).get("condition") == "service_healthy"
    gateway = depends_on_of(services["gateway"])
    for svc in SERVICES:
        assert gateway.get(f"{svc}-web", {}).get("condition") == "service_healthy"


def test_infrastructure_images_and_healthchecks(services):
    assert re.fullmatch(r"rabbitmq:(3\.13|4(\.\d+)*)-management(-alpine)?", services["rabbitmq"]["image"])
    assert healthcheck_command(services["rabbitmq"])[1:] == ["rabbitmq-diagnostics", "-q", "ping"]
    assert services["rabbitmq"].get("hostname"), "rabbitmq needs a fixed hostname to keep its data volume"
    assert re.fullmatch(r"postgres:16([.\-].*)?", services["postgres"]["image"])
    assert "pg_isready" in healthcheck_command(services["postgres"])
    assert services["minio"]["image"].startswith(("minio/minio", "quay.io/minio/minio"))
    assert services["minio-init"]["image"].startswith(("minio/mc", "quay.io/minio/mc"))
    assert services["mailcatcher"]["image"].startswith("axllent/mailpit")
    assert services["gateway"]["image"].startswith("nginx:")


def test_minio_init_creates_the_configured_bucket_with_versioning(services):
    script = "\n".join(command_of(services["minio-init"]))
    bucket = environment_of(services["intake-web"])["UWAGI_S3_BUCKET"]
    assert re.search(rf"mc mb --ignore-existing \S+/{re.escape(bucket)}\b", script)
    assert re.search(rf"mc version enable \S+/{re.escape(bucket)}\b", script)
    assert "minio:9000" in script


def test_named_volumes_are_declared_and_bind_mounts_exist(compose, services):
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume["source"] if isinstance(volume, dict) else str(volume).split(":", 1)[0]
            if source.startswith((".", "/", "~")):
                path = (REPO / source).resolve() if not source.startswith("/") else Path(source)
                assert path.exists(), f"{name}: bind mount source {source} does not exist"
            else:
                used.add(source)
                assert source in declared, f"{name}: named volume {source} is not declared"
    assert used == declared, f"declared but unused volumes: {sorted(declared - used)}"
    for stateful in ("rabbitmq", "postgres", "minio"):
        assert any(":" in str(v) and not str(v).startswith(".") for v in services[stateful].get("volumes", [])), stateful


def test_build_contexts_and_dockerfiles_exist(services):
    for name, service in services.items():
        build = service.get("build")
        if build is None:
            continue
        build = {"context": build} if isinstance(build, str) else build
        context = (REPO / build.get("context", ".")).resolve()
        assert context.is_dir(), f"{name}: build context {context} missing"
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} missing"
    uwagi_built = {name for name, s in services.items() if s.get("build")}
    assert uwagi_built == UWAGI_CONTAINERS, "exactly the Uwagi containers are built from deploy/Dockerfile"
    images = {services[name]["image"] for name in UWAGI_CONTAINERS}
    assert len(images) == 1, f"one image for all Uwagi containers, got {images}"


# --------------------------------------------------------------------------- commands and modules


def _check_python_module(module: str, where: str, *, runnable: bool) -> None:
    path = find_module_file(module, runnable=runnable)
    expected = REPO.joinpath(*module.split(".")).with_suffix(".py")
    assert path is not None, f"{where}: module {module} not found (expected {expected.relative_to(REPO)})"


def _check_command(argv: list[str], where: str) -> None:
    assert argv, f"{where}: empty command"
    program = argv[0]
    if program in {"python", "python3"}:
        assert len(argv) >= 3 and argv[1] == "-m", f"{where}: python commands must be `python -m module`"
        _check_python_module(argv[2], where, runnable=True)
    elif program == "uwagi":
        pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
        target = pyproject["project"]["scripts"].get("uwagi")
        assert target, f"{where}: pyproject.toml [project.scripts] has no `uwagi`"
        module, _, function = target.partition(":")
        path = find_module_file(module)
        assert path is not None, f"{where}: console script module {module} not found"
        assert function in top_level_names(path), f"{where}: {module} defines no {function}"
        # The sub-command must be one the dispatcher knows, and its module must exist.
        assert len(argv) >= 2, f"{where}: `uwagi` without a sub-command"
        groups = None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == argv[1] for k in node.keys):
                groups = {k.value: v.value for k, v in zip(node.keys, node.values)
                          if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)}
        assert groups and argv[1] in groups, f"{where}: `uwagi {argv[1]}` is not a known sub-command"
        _check_python_module(groups[argv[1]], where, runnable=False)
        if argv[1] == "migrate":
            assert argv[2:] and argv[2] in SERVICES + ("all",), f"{where}: `uwagi migrate` needs a service"
    elif program == "gunicorn":
        assert importlib.util.find_spec("gunicorn") is not None, "gunicorn is not installed"
        assert "--config" in argv, f"{where}: gunicorn without --config"
        config = argv[argv.index("--config") + 1]
        assert (REPO / config).is_file(), f"{where}: {config} missing"
        app = argv[-1]
        match = re.fullmatch(r"([\w.]+):(\w+)(\(\))?", app)
        assert match, f"{where}: {app!r} is not module:callable"
        module, attribute = match.group(1), match.group(2)
        path = find_module_file(module)
        expected = REPO.joinpath(*module.split(".")).with_suffix(".py")
        assert path is not None, f"{where}: app module {module} not found (expected {expected.relative_to(REPO)})"
        assert attribute in top_level_names(path), f"{where}: {module} defines no {attribute}"
    else:
        pytest.fail(f"{where}: unexpected program {program!r}")


@pytest.mark.parametrize("container", sorted(UWAGI_CONTAINERS))
def test_uwagi_container_command_names_existing_code(services, container):
    svc, role = container.rsplit("-", 1)
    argv = command_of(services[container])
    expected = {
        "migrate": ["uwagi", "migrate", svc],
        "web": ["gunicorn", "--config", "deploy/gunicorn.conf.py", f"services.{svc}.app:create_app()"],
        "worker": ["python", "-m", f"services.{svc}.worker"],
    }[role]
    assert argv == expected
    _check_command(argv, container)


@pytest.mark.parametrize("container", sorted(UWAGI_CONTAINERS - ONE_SHOT_JOBS))
def test_uwagi_container_healthcheck_names_existing_code(services, container):
    svc, role = container.rsplit("-", 1)
    test = healthcheck_command(services[container])
    assert test[0] == "CMD", f"{container}: exec-form healthcheck (the slim image has no curl)"
    if role == "worker":
        assert test[1:] == ["python", "-m", "services.common.healthcheck", "worker", svc]
        _check_python_module("services.common.healthcheck", container, runnable=True)
    else:
        assert test[1:3] == ["python", "-c"]
        code = test[3]
        compile(code, f"<{container} healthcheck>", "exec")
        assert f"http://127.0.0.1:8000/{svc}/readyz" in code


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize("container", sorted(UWAGI_CONTAINERS))
def test_uwagi_environment_uses_only_known_variables(services, container):
    env = environment_of(services[container])
    unknown = set(env) - uwagi_settings.KNOWN_VARIABLES - RUNTIME_VARIABLES
    assert not unknown, f"{container} sets variables the settings parser does not know: {sorted(unknown)}"


@pytest.mark.parametrize("container", sorted(UWAGI_CONTAINERS))
def test_uwagi_environment_parses_and_points_at_compose_services(services, container):
    svc = container.rsplit("-", 1)[0]
    raw = environment_of(services[container])
    env = {k: interpolate(v, DUMMY_HOST_ENV) for k, v in raw.items()}

    database_vars = {k for k in env if k.endswith("_DATABASE_URL")}
    assert database_vars == {f"{svc.upper()}_DATABASE_URL"}, f"{container} must see its own database only"
    db = urlsplit(env[f"{svc.upper()}_DATABASE_URL"])
    assert (db.scheme, db.hostname, db.port, db.path) == ("postgresql+psycopg", "postgres", 5432, f"/uwagi_{svc}")

    broker = urlsplit(env["UWAGI_BROKER_URL"])
    assert (broker.scheme, broker.hostname, broker.port, broker.path) == ("amqp", "rabbitmq", 5672, "//")
    assert env["UWAGI_S3_ENDPOINT"] == "minio:9000"
    assert (env["UWAGI_SMTP_HOST"], env["UWAGI_SMTP_PORT"]) == ("mailcatcher", "1025")
    assert env["UWAGI_PUBLIC_URL"] == "http://localhost:8080"
    for host in ("postgres", "rabbitmq", "minio", "mailcatcher"):
        assert host in services

    parsed = uwagi_settings.load_settings(env)  # raises SettingsError on any value it rejects
    assert not parsed.embedded_broker
    assert parsed.s3 is not None and parsed.smtp is not None
    assert parsed.secret_key == DUMMY_HOST_ENV["UWAGI_SECRET_KEY"]


def test_uwagi_credentials_match_the_infrastructure(services):
    env = {k: interpolate(v, DUMMY_HOST_ENV) for k, v in environment_of(services["intake-web"]).items()}
    rabbit = {k: interpolate(v, DUMMY_HOST_ENV) for k, v in environment_of(services["rabbitmq"]).items()}
    pg = {k: interpolate(v, DUMMY_HOST_ENV) for k, v in environment_of(services["postgres"]).items()}
    minio = {k: interpolate(v, DUMMY_HOST_ENV) for k, v in environment_of(services["minio"]).items()}
    broker = urlsplit(env["UWAGI_BROKER_URL"])
    assert (broker.username, broker.password) == (rabbit["RABBITMQ_DEFAULT_USER"], rabbit["RABBITMQ_DEFAULT_PASS"])
    db = urlsplit(env["INTAKE_DATABASE_URL"])
    assert (db.username, db.password) == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"])
    assert (env["UWAGI_S3_ACCESS_KEY"], env["UWAGI_S3_SECRET_KEY"]) == (minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"])


def test_postgres_init_script_creates_every_service_database(services):
    assert INIT_DB_SCRIPT.is_file()
    assert os.access(INIT_DB_SCRIPT, os.X_OK), "init-databases.sh must be executable"
    text = INIT_DB_SCRIPT.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/bash")
    listed = re.search(r"UWAGI_SERVICES:-([a-z ]+)\}", text)
    assert listed and set(listed.group(1).split()) == set(SERVICES)
    assert 'db="uwagi_${service}"' in text
    mounts = [str(v) for v in services["postgres"]["volumes"]]
    assert any(m.startswith("./deploy/postgres/init-databases.sh:/docker-entrypoint-initdb.d/") for m in mounts)
    if shutil.which("bash"):
        subprocess.run(["bash", "-n", str(INIT_DB_SCRIPT)], check=True)


# --------------------------------------------------------------------------- gateway


def test_gateway_publishes_8080_and_mounts_its_config(services):
    gateway = services["gateway"]
    ports = [interpolate(str(p), {}) for p in gateway["ports"]]
    assert "8080:80" in ports
    assert "./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in gateway["volumes"]
    published = {name for name, s in services.items() if s.get("ports")}
    for name in UWAGI_CONTAINERS:
        assert name not in published, f"{name} must be reached through the gateway only"
    for name in published - {"gateway"}:
        for port in services[name]["ports"]:
            assert str(port).startswith("127.0.0.1:"), f"{name}: admin UI {port} must bind to localhost only"


def test_nginx_routes_every_prefix_to_its_web_service(services, nginx_tree):
    http = nginx_find(nginx_tree, "http")
    assert len(http) == 1
    http_block = http[0][2]
    upstreams = {args[0]: children for _, args, children in nginx_find(http_block, "upstream")}
    servers = nginx_find(http_block, "server")
    assert len(servers) == 1
    server = servers[0][2]
    assert nginx_find(server, "listen")[0][1][0] == "80"
    locations = {tuple(args): children for _, args, children in nginx_find(server, "location")}

    for svc in SERVICES:
        block = locations.get((f"/{svc}/",))
        assert block is not None, f"nginx.conf has no `location /{svc}/`"
        proxy = nginx_find(block, "proxy_pass")
        assert len(proxy) == 1, f"location /{svc}/ must proxy_pass"
        target = urlsplit(proxy[0][1][0])
        assert target.scheme == "http" and target.path == "", "pass the full URI: services are mounted under their prefix"
        hosts = []
        if target.hostname in upstreams:
            hosts = [args[0] for _, args, _ in nginx_find(upstreams[target.hostname], "server")]
        else:
            hosts = [target.netloc]
        assert hosts, f"upstream {target.hostname} has no server"
        for host in hosts:
            name, _, port = host.partition(":")
            assert name in services, f"nginx proxies /{svc}/ to {name}, not a compose service"
            assert name == f"{svc}-web", f"/{svc}/ must go to {svc}-web, not {name}"
            assert port == "8000", f"{host}: the web containers listen on 8000"
            assert "8000" in [str(p) for p in services[name].get("expose", [])]

    root = locations.get(("=", "/"))
    assert root is not None, "nginx.conf has no `location = /`"
    ret = nginx_find(root, "return")
    assert ret and ret[0][1][0] in {"301", "302", "303", "307", "308"} and ret[0][1][1] == "/intake/"

    body = nginx_find(http_block, "client_max_body_size") + nginx_find(server, "client_max_body_size")
    assert [args for _, args, _ in body] == [["25m"]]
    headers = {args[0].lower(): args[1] for _, args, _ in nginx_find(http_block, "proxy_set_header")}
    assert headers.get("x-forwarded-for") == "$proxy_add_x_forwarded_for"
    assert headers.get("x-forwarded-proto") == "$scheme"
    assert headers.get("x-forwarded-host") in {"$host", "$http_host"}
    assert headers.get("host") in {"$host", "$http_host"}

    health = locations.get(("=", "/gateway/healthz"))
    assert health is not None
    probe = healthcheck_command(services["gateway"])
    assert "http://127.0.0.1/gateway/healthz" in probe


def test_nginx_config_syntax_when_nginx_is_installed(tmp_path):
    """`nginx -t` on the gateway's configuration (Debian's nginx-light; .ci/run installs it)."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        unavailable("nginx", "not installed (apt-get install nginx-light)")
    text = NGINX_CONF.read_text(encoding="utf-8")
    # Outside Docker the upstream names and the embedded DNS do not exist.
    text = re.sub(r"server\s+[a-z0-9-]+:8000\s+resolve;", "server 127.0.0.1:8000;", text)
    text = re.sub(r"(?m)^\s*resolver(_timeout)?\s+[^;]*;", "", text)
    text = re.sub(r"(?m)^pid\s+[^;]*;", f"pid {tmp_path}/nginx.pid;", text)
    text = re.sub(r"(?m)^error_log\s+[^;]*;", f"error_log {tmp_path}/error.log;", text)
    if not Path("/etc/nginx/mime.types").exists():
        text = text.replace("include /etc/nginx/mime.types;", "")
    (tmp_path / "nginx.conf").write_text(text, encoding="utf-8")
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- image and process settings


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_copy_sources_exist_and_reach_the_build_context():
    assert DOCKERFILE.is_file()
    instructions = _dockerfile_instructions()
    ignore = REPO / ".dockerignore"
    patterns = [p.strip() for p in ignore.read_text(encoding="utf-8").splitlines()
                if p.strip() and not p.strip().startswith("#")] if ignore.exists() else []
    copies = [rest for keyword, rest in instructions if keyword in {"COPY", "ADD"}]
    assert copies
    sources_seen = set()
    for rest in copies:
        words = [w for w in shlex.split(rest) if not w.startswith("--")]
        assert not any(w.startswith("--from") for w in shlex.split(rest)), "single-stage image expected"
        *sources, _destination = words
        for source in sources:
            sources_seen.add(source.rstrip("/"))
            assert (REPO / source).exists(), f"Dockerfile COPY source {source} does not exist"
            assert not dockerignore_excludes(source, patterns), f".dockerignore excludes {source}"
    assert {"pyproject.toml", "requirements.lock", "services", "deploy/gunicorn.conf.py"} <= sources_seen
    for secret in (".env", ".git", ".venv", "var"):
        assert dockerignore_excludes(secret, patterns), f".dockerignore must keep {secret} out of the image"


def test_dockerfile_installs_pinned_as_non_root_without_secrets():
    instructions = _dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert "pip install -c requirements.lock ." in runs
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    for keyword, rest in instructions:
        if keyword in {"ENV", "ARG"}:
            assert not re.search(r"SECRET|PASSWORD|TOKEN|_KEY", rest, re.I), f"{keyword} {rest}: no secrets in the image"
    workdir = [rest for keyword, rest in instructions if keyword == "WORKDIR"]
    assert workdir == ["/app"], "commands use paths relative to /app (deploy/gunicorn.conf.py)"


def test_gunicorn_settings(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    conf = runpy.run_path(str(GUNICORN_CONF))
    assert conf["bind"] == "0.0.0.0:8000"
    assert conf["workers"] == 2
    assert conf["threads"] == 4
    assert conf["timeout"] == 60
    assert conf["accesslog"] == "-"
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    assert runpy.run_path(str(GUNICORN_CONF))["workers"] == 5
    monkeypatch.setenv("WEB_CONCURRENCY", "many")
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY"):
        runpy.run_path(str(GUNICORN_CONF))




# --------------------------------------------------------------------------- monitoring


def test_prometheus_scrapes_every_web_process_and_worker_that_exists(services):
    config = yaml.safe_load(PROMETHEUS_CONF.read_text())
    mounts = [str(v) for v in services["prometheus"]["volumes"]]
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts
    script = "\n".join(command_of(services["prometheus"]))
    scraped: set[str] = set()
    for job in config["scrape_configs"]:
        # The token file is what the container's entrypoint writes from UWAGI_METRICS_TOKEN.
        token_file = job["authorization"]["credentials_file"]
        assert f"> {token_file}" in script and "--config.file=/etc/prometheus/prometheus.yml" in script
        for group in job["static_configs"]:
            for target in group["targets"]:
                host, port = target.split(":")
                assert host in services, f"{job['job_name']}: no compose service {host}"
                env = environment_of(services[host])
                svc, role = host.rsplit("-", 1)
                if role == "web":
                    assert port == "8000" and job["metrics_path"] == f"/{svc}/metrics"
                    assert env.get("PROMETHEUS_MULTIPROC_DIR"), f"{host}: gunicorn workers need the multiprocess dir"
                else:
                    assert role == "worker" and job["metrics_path"] == "/metrics"
                    assert env.get("UWAGI_METRICS_PORT") == port and env.get("UWAGI_METRICS_HOST") == "0.0.0.0"
                    assert port in [str(p) for p in services[host].get("expose", [])]
                    assert not services[host].get("ports"), f"{host}: the metrics port is not published"
                assert "UWAGI_METRICS_TOKEN" in env, host
                scraped.add(host)
    assert scraped == {f"{svc}-{role}" for svc in SERVICES for role in ("web", "worker")}
    assert environment_of(services["prometheus"])["UWAGI_METRICS_TOKEN"].startswith("${UWAGI_METRICS_TOKEN:?")


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard(services):
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in services["grafana"]["volumes"] if str(v).startswith(".")}
    assert mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    datasource = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    [source] = datasource["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "uwagi.yml").read_text())["providers"][0]
    assert mounts[provider["options"]["path"]] == "./deploy/grafana/dashboards"
    assert "prometheus" in depends_on_of(services["grafana"])
    dashboards = list((GRAFANA / "dashboards").glob("*.json"))
    assert dashboards
    import json

    for path in dashboards:
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] == source["uid"], panel["title"]
            assert panel["targets"], panel["title"]


def test_every_dashboard_panel_queries_metrics_the_code_exports():
    import json

    from services.common import metrics

    exported = set(metrics.METRIC_NAMES)
    # Histograms are queried through their series.
    series = exported | {f"{name}_{suffix}" for name in exported for suffix in ("bucket", "sum", "count")}
    source = "\n".join(p.read_text() for p in (REPO / "services" / "common").glob("*.py"))
    for name in exported:
        assert f'"{name}"' in source, f"{name} is listed but defined nowhere"
    functions = {"sum", "by", "rate", "increase", "max", "histogram_quantile", "le", "service", "route", "status",
                 "outcome", "state", "kind", "without", "avg", "irate"}
    covered: set[str] = set()
    for path in (GRAFANA / "dashboards").glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"", " ", target["expr"])
                names = {w for w in re.findall(r"[a-z_][a-z0-9_]*", expr) if w not in functions}
                assert names, panel["title"]
                unknown = names - series
                assert not unknown, f"panel {panel['title']!r} queries {sorted(unknown)}, which the code does not export"
                covered |= {n for n in names if n in exported} | {n.rsplit("_", 1)[0] for n in names - exported}
    assert exported <= covered, f"metrics without a panel: {sorted(exported - covered)}"
