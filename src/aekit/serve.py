"""``aekit serve``: an HTTP scoring server for an exported model (FastAPI + uvicorn).

Why FastAPI + uvicorn: both are widely used and actively maintained, request bodies are
validated by pydantic schemas (the error says which field is wrong), and the OpenAPI
description at ``/docs`` comes for free. LitServe would add a torch-centred layer that an
ONNX scorer does not need.

Every request is scored by :class:`aekit.runtime.ExportedModel` (onnxruntime), so the
server's numbers equal the exported file's and ``aekit score``'s. Concurrent requests are
micro-batched: :class:`MicroBatcher` scores everything queued (up to ``max_batch_rows``
rows) in one onnxruntime call. By default it does not wait for more: requests that arrive
while a batch is being scored queue up and form the next batch, so a lone request pays
nothing for batching and batches grow with the load by themselves; ``batch_wait_s`` adds an
explicit wait for bigger batches.

A series export (kind ``"series"``) takes each request's rows as the time steps of one
series and is scored per request, without micro-batching.

Endpoints: ``POST /v1/score`` (``score``, ``is_anomaly`` for a detector), ``/v1/encode``
(``code``), ``/v1/reconstruct`` (``reconstruction``); ``GET /health``, ``/v1/metadata``.
Bodies: JSON ``{"rows": [[...], ...]}`` or ``{"rows": [{"feature": value, ...}, ...]}``, or
a multipart upload ``file`` (``.csv``, ``.parquet``, ``.npy``). Errors are one JSON line
``{"error": "..."}``: 413 for a body over the size limit, 415 for another content type,
422 for a wrong width, an unknown or missing feature, NaN/inf or a non-numeric value.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aekit.errors import AekitError, ConfigError, DataError

INLINE_ROWS = 256  # batches up to this size are scored on the event loop itself
ENDPOINT_OUTPUTS = {"score": ("score", "is_anomaly"), "encode": ("code",), "reconstruct": ("reconstruction",)}


@dataclass
class ServeConfig:
    """Server settings. ``max_body_bytes``: larger bodies get 413. ``batch_wait_s``: how long
    the batcher waits for more requests after the first (0: take what is queued and go);
    ``max_batch_rows``: rows per pass. ``workers``: server processes sharing the port (each
    loads the model and batches its own requests); ``threads``: onnxruntime threads per process
    (default: its own choice with one worker, the cores shared out between several)."""

    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 32 * 1024 * 1024
    batch_wait_s: float = 0.0
    max_batch_rows: int = 8192
    threads: int | None = None
    workers: int = 1


class MicroBatcher:
    """Groups concurrent requests into one onnxruntime call (an asyncio queue drained by one task)."""

    def __init__(self, model: Any, wait_s: float, max_rows: int) -> None:
        self.model = model
        self.wait_s = wait_s
        self.max_rows = max_rows
        self.queue: asyncio.Queue[tuple[np.ndarray, asyncio.Future[dict[str, np.ndarray]]]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def submit(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """All outputs for the checked rows ``x`` ``(n, n_features)``, scored with whatever else is queued."""
        fut: asyncio.Future[dict[str, np.ndarray]] = asyncio.get_running_loop().create_future()
        await self.queue.put((x, fut))
        return await fut

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.queue.get()]
            rows = len(batch[0][0])
            if self.wait_s <= 0:
                await asyncio.sleep(0)  # one turn of the loop: requests already read get queued too
            deadline = loop.time() + self.wait_s
            while rows < self.max_rows:
                left = deadline - loop.time()
                try:
                    item = self.queue.get_nowait() if left <= 0 else await asyncio.wait_for(self.queue.get(), left)
                except (asyncio.TimeoutError, asyncio.QueueEmpty):
                    break
                batch.append(item)
                rows += len(item[0])
            x = batch[0][0] if len(batch) == 1 else np.concatenate([b[0] for b in batch])
            try:
                if len(x) <= INLINE_ROWS:  # tens of microseconds: cheaper than a hop to a thread
                    out = self.model.run_prepared(x)
                else:  # onnxruntime releases the GIL: run big batches off the loop so requests keep arriving
                    out = await loop.run_in_executor(None, self.model.run_prepared, x)
            except Exception as err:  # noqa: BLE001 - handed to every waiting request
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(err)
                continue
            start = 0
            for xb, fut in batch:
                stop = start + len(xb)
                if not fut.done():
                    fut.set_result({k: v[start:stop] for k, v in out.items()})
                start = stop


class TooLarge(Exception):
    """A request body over ``ServeConfig.max_body_bytes`` (answered with 413)."""


class NoOutput(Exception):
    """An endpoint whose outputs this export lacks (answered with 404)."""


def _header(scope: Any, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def _content_type(raw: bytes | str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else (raw or "")
    return text.split(";")[0].strip().lower()


async def _read_body(receive: Any, limit: int) -> bytes:
    """The whole request body from ASGI ``receive``; :class:`TooLarge` once it passes ``limit`` bytes
    (a chunked body has no content-length to check up front)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge()
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


async def _send_json(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


class Scorer:
    """What every scoring request goes through, whichever layer received it: JSON rows -> the
    checked float32 array -> the micro-batcher (or one whole series) -> the endpoint's outputs as JSON."""

    def __init__(self, model: Any, cfg: ServeConfig) -> None:
        self.model = model
        self.cfg = cfg
        self.schema = _rows_schema(table=isinstance(model, TableModel))
        self.batcher = MicroBatcher(model, cfg.batch_wait_s, cfg.max_batch_rows)
        self.wanted = {name: [o for o in outs if o in model.outputs] for name, outs in ENDPOINT_OUTPUTS.items()}

    def json_rows(self, body: bytes) -> np.ndarray:
        """A JSON body ``{"rows": [...]}`` -> ``(N, n_features)`` float32; :class:`DataError` naming the field."""
        from pydantic import ValidationError

        try:
            rows = self.schema.model_validate_json(body).rows
        except ValidationError as err:
            raise DataError(_one_line(err)) from None
        return _rows_to_array(self.model, rows)

    def check_endpoint(self, name: str) -> None:
        """:class:`NoOutput` when the export has none of ``name``'s outputs (e.g. /v1/encode of a series export,
        whose windows' codes are not rows of the input)."""
        if not self.wanted[name]:
            raise NoOutput(f"this {self.model.kind} export has no {name} output (it has {', '.join(self.model.outputs)})")

    def filled(self) -> dict[str, dict[str, int]] | None:
        """For a mixed-type table run: the gaps filled in, the unseen categories and the values not
        read as numbers (per column) of the rows just prepared; ``None`` when there were none. Read it right after preparing the
        rows, before any ``await``: the table keeps only its latest transform's counts."""
        if not isinstance(self.model, TableModel):
            return None
        counts = self.model.table.last_counts_
        out = {k: dict(v) for k, v in (("missing", counts.missing), ("unseen", counts.unseen), ("unread", counts.unread)) if v}
        return out or None

    async def answer(self, name: str, x: np.ndarray, filled: dict[str, Any] | None = None) -> bytes:
        """``name``'s outputs for the rows ``x`` (plus ``filled``, see :meth:`filled`, when given),
        serialised once (a generic encoder would walk every number again)."""
        if self.model.series is not None:  # one request = one whole series: never mixed with other requests
            out = await asyncio.get_running_loop().run_in_executor(None, self.model.run_prepared, x)
        else:
            out = await self.batcher.submit(x)
        body: dict[str, Any] = {k: out[k].tolist() for k in self.wanted[name]}
        if filled:
            body["filled"] = filled
        return json.dumps(body).encode()


class FastPath:
    """The outermost ASGI layer: the body-size limit for every request, and JSON scoring requests
    answered straight from :class:`Scorer`; everything else goes on to the FastAPI application.

    Why: a single-row request is mostly framework time; FastAPI's routing, dependency and
    exception layers cost more CPU than the scoring itself, and under many concurrent clients
    that CPU is the latency. JSON requests get the same validation, errors and results as the
    FastAPI routes (which still serve uploads, ``/docs`` and the OpenAPI schema).
    """

    def __init__(self, app: Any, scorer: Scorer, limit: int) -> None:
        self.app = app
        self.scorer = scorer
        self.limit = limit
        self.routes = {f"/v1/{name}": name for name in ENDPOINT_OUTPUTS}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _send_json(send, 413, _error(f"request body of {int(length)} bytes is over the {self.limit} byte limit"))
            return
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):  # behind --root-path or mounted: routes are matched below the prefix
            path = path[len(root):]
        name = self.routes.get(path) if scope["method"] == "POST" else None
        if name is None or _content_type(_header(scope, b"content-type")) != "application/json":
            await self.app(scope, receive, send)
            return
        try:
            self.scorer.check_endpoint(name)
            x = self.scorer.json_rows(await _read_body(receive, self.limit))
            status, body = 200, await self.scorer.answer(name, x, self.scorer.filled())
        except TooLarge:
            status, body = 413, _error(f"request body over the {self.limit} byte limit")
        except NoOutput as err:
            status, body = 404, _error(str(err))
        except AekitError as err:
            status, body = 422, _error(str(err))
        except ConnectionError:
            return  # the client went away: nobody to answer
        await _send_json(send, status, body)


class Unsupported(Exception):
    """A request body of another content type than JSON or multipart (answered with 415)."""


def _rows_schema(table: bool = False) -> Any:
    from pydantic import BaseModel, Field

    if table:
        class TableRows(BaseModel):
            """Rows of a mixed-type table: objects keyed by column name (or lists in column order);
            text for categories and dates, ``null`` for a missing value (filled as in training)."""

            rows: list[list[float | str | bool | None]] | list[dict[str, float | str | bool | None]] = Field(min_length=1)

        return TableRows

    class Rows(BaseModel):
        """Rows to score: lists of numbers in feature order, or objects keyed by feature name."""

        rows: list[list[float]] | list[dict[str, float]] = Field(min_length=1)

    return Rows


class TableModel:
    """A mixed-type table run served: its model's export (taking the encoded features) behind
    the run's own preprocessing (:class:`aekit.data.tables.TablePreprocessor`), so requests
    carry the table's columns as they are (text for categories and dates, ``null`` for gaps;
    a category never seen in training encodes as all zeros). Everything else is the export's."""

    def __init__(self, inner: Any, table: Any) -> None:
        self.inner = inner
        self.table = table

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def feature_names(self) -> list[str]:
        """The table's feature columns (what a request sends)."""
        return list(self.table.feature_columns)

    @property
    def n_features(self) -> int:
        return len(self.table.feature_columns)

    def prepare(self, X: Any, ignore: Any = ()) -> np.ndarray:
        """Rows of the table (a DataFrame, or rows of the feature columns in order) -> encoded float32 features."""
        df = self.table.as_frame(X)
        drop = [c for c in df.columns if c in set(map(str, ignore))]
        return self.inner.prepare(self.table.transform(df.drop(columns=drop)).astype(np.float32))

    def info(self) -> dict[str, Any]:
        out = self.inner.info()
        out.update(feature_names=self.feature_names, n_features=self.n_features,
                   encoded_features=self.inner.feature_names, table=self.table.to_dict()["columns"])
        return out


def _table_rows(model: TableModel, rows: list[Any]) -> np.ndarray:
    """JSON rows of a mixed-type table, each checked for unknown and missing columns, encoded."""
    import pandas as pd

    if not isinstance(rows[0], dict):
        widths = {len(r) for r in rows}
        if len(widths) > 1:
            raise DataError(f"rows have different lengths ({', '.join(map(str, sorted(widths)))})")
        return model.prepare(pd.DataFrame(rows, columns=model.feature_names) if widths == {model.n_features}
                             else np.asarray(rows, dtype=object))
    _check_row_keys(rows, set(model.table.known_columns), model.feature_names, " (send null for a missing value)")
    return model.prepare(pd.DataFrame.from_records(rows))


def _check_row_keys(rows: list[dict[str, Any]], known: set[str], needed: list[str], hint: str = "") -> None:
    """Refuse the first row (``rows.I``) with a key outside ``known`` or without one of ``needed``."""
    for i, row in enumerate(rows):
        unknown = [k for k in row if k not in known]
        if unknown:
            raise DataError(f"rows.{i}: unknown feature {unknown[0]!r}")
        missing = [n for n in needed if n not in row]
        if missing:
            raise DataError(f"rows.{i}: missing feature {missing[0]!r}{hint}")


def _one_line(err: Any) -> str:
    """The deepest pydantic error as ``field: message`` (e.g. ``rows.0.2: Input should be a valid number``)."""
    first = max(err.errors(), key=lambda e: len(e.get("loc", ())))  # the union branch that got furthest
    loc = ".".join(str(p) for p in first.get("loc", ()) if not _type_step(p))
    return f"{loc or 'body'}: {first.get('msg', 'invalid')}"


def _type_step(part: Any) -> bool:
    """Whether a pydantic error location step names a type of the schema's unions (``list[list[float]]``, ``str``)."""
    return isinstance(part, str) and (part.startswith(("list[", "dict[", "nullable[", "union[")) or part in ("float", "str", "bool"))


def _rows_to_array(model: Any, rows: list[Any]) -> np.ndarray:
    if isinstance(model, TableModel):
        return _table_rows(model, rows)
    if isinstance(rows[0], dict):
        names = model.feature_names
        if names is None:
            raise DataError("rows are objects but this model has no feature names; send lists in feature order")
        _check_row_keys(rows, set(names), names)
        return model.prepare(np.array([[row[n] for n in names] for row in rows], dtype=np.float32))
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise DataError(f"rows have different lengths ({', '.join(map(str, sorted(widths)))})")
    return model.prepare(np.asarray(rows, dtype=np.float32))


def _read_upload(model: Any, name: str, data: bytes) -> np.ndarray:
    from aekit.data.tablefiles import is_table_file, read_table_bytes
    from aekit.stream import left_out

    suffix = Path(name or "").suffix.lower()
    if is_table_file(name or ""):
        table = isinstance(model, TableModel)
        # in the format aekit score reads the file in; a table run's codes as detect read them (its text columns as text)
        frame = read_table_bytes(data, name, model.table.text_columns if table else (), keep_codes=table)
        # the run's label and id columns left out as `aekit score` leaves them out (the training file scores as it does)
        label_column, id_column = getattr(model, "recorded_columns", (None, None))
        names = model.table.known_columns if table else model.feature_names
        return model.prepare(frame, left_out(frame.columns, names, label_column, id_column))
    if suffix != ".npy":
        raise DataError(f"file: unsupported type {suffix or '(none)'!r}; send a table (.csv, .tsv, .parquet, ...) or .npy")
    try:
        return model.prepare(np.load(io.BytesIO(data), allow_pickle=False))
    except Exception as err:  # noqa: BLE001 - np.load raises many types; all mean "unreadable upload"
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise DataError(f"file: cannot read .npy upload ({first[:160]})") from None


def create_app(model: Any, cfg: ServeConfig | None = None) -> Any:
    """The ASGI application serving ``model`` (an :class:`aekit.runtime.ExportedModel`): a
    :class:`FastPath` for JSON scoring around the FastAPI application (uploads, docs, metadata)."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response

    cfg = cfg or ServeConfig()
    scorer = Scorer(model, cfg)

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> Any:
        await scorer.batcher.start()
        yield
        await scorer.batcher.stop()

    app = FastAPI(title="aekit scoring server", version=str(model.metadata.get("version", "")), lifespan=lifespan)

    @app.exception_handler(AekitError)
    async def _aekit_error(_: Request, err: AekitError) -> JSONResponse:
        return JSONResponse({"error": str(err)}, status_code=422)

    @app.exception_handler(TooLarge)
    async def _too_large(_: Request, err: TooLarge) -> JSONResponse:
        return JSONResponse({"error": f"request body over the {cfg.max_body_bytes} byte limit"}, status_code=413)

    @app.exception_handler(NoOutput)
    async def _no_output(_: Request, err: NoOutput) -> JSONResponse:
        return JSONResponse({"error": str(err)}, status_code=404)

    async def read_rows(request: Request) -> np.ndarray:
        body = await request.body()
        if len(body) > cfg.max_body_bytes:  # a chunked body has no content-length to check up front
            raise TooLarge()
        ctype = _content_type(request.headers.get("content-type"))
        if ctype == "application/json":  # answered by FastPath when served; here for the bare FastAPI app
            return scorer.json_rows(body)
        if ctype == "multipart/form-data":
            form = await request.form()
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise DataError("file: a multipart request needs a file field named 'file'")
            return _read_upload(model, upload.filename or "", await upload.read())
        raise Unsupported(ctype)

    @app.exception_handler(Unsupported)
    async def _unsupported(_: Request, err: Unsupported) -> JSONResponse:
        return JSONResponse({"error": f"content type {err.args[0] or '(none)'!r} not accepted; send application/json "
                                      "or a multipart upload"}, status_code=415)

    body_doc = {"requestBody": {"required": True, "content": {
        "application/json": {"schema": scorer.schema.model_json_schema()},
        "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
    }}}

    def endpoint(name: str) -> Any:
        async def handler(request: Request) -> Any:
            scorer.check_endpoint(name)
            x = await read_rows(request)
            return Response(await scorer.answer(name, x, scorer.filled()), media_type="application/json")

        handler.__name__ = name
        handler.__annotations__ = {"request": Request}  # resolved here: the module's annotations are strings
        handler.__doc__ = f"{', '.join(scorer.wanted[name]) or 'nothing'} for every row of the body."
        return handler

    for name in ENDPOINT_OUTPUTS:
        app.post(f"/v1/{name}", openapi_extra=body_doc)(endpoint(name))

    @app.get("/health")
    async def health() -> dict[str, str]:
        """Liveness: ``{"status": "ok"}`` once the model is loaded."""
        return {"status": "ok"}

    @app.get("/v1/metadata")
    async def metadata() -> dict[str, Any]:
        """What the model is: kind, family, threshold, feature names, input width, outputs."""
        return model.info()

    return FastPath(app, scorer, cfg.max_body_bytes)


def load_for_serving(source: str | Path, threads: int | None = None) -> Any:
    """An ``.onnx`` export, or a run folder exported in memory, as an :class:`~aekit.runtime.ExportedModel`
    (a :class:`TableModel` around it for a run fitted on a mixed-type table; a run folder's also carries
    ``recorded_columns``, its label and id columns, which an upload leaves out as `aekit score` does)."""
    from aekit.runtime import load_exported

    path = Path(source)
    if path.is_dir():
        from aekit.export import export_bytes
        from aekit.stream import recorded_columns

        table = _table_of(path)
        model = load_exported(export_bytes(path, encoded_table=table is not None), threads=threads)
        served = model if table is None else TableModel(model, table)
        served.recorded_columns = recorded_columns(path)  # (label, id column): what an upload leaves out (_read_upload)
        return served
    return load_exported(path, threads=threads)


def _table_of(run: Path) -> Any:
    """The table preprocessing saved in ``run``'s ``model.json``, or ``None`` (also when unreadable: the export says why)."""
    import json

    try:
        state = ((json.loads((run / "model.json").read_text()).get("estimator") or {}).get("state") or {}).get("table")
    except (OSError, ValueError, AttributeError):
        return None
    if state is None:
        return None
    from aekit.data.tables import TablePreprocessor

    return TablePreprocessor.from_dict(state)


WORKER_SPEC = "AEKIT_SERVE_WORKER"  # how the parent hands source and settings to worker processes


def run_server(source: str | Path, cfg: ServeConfig) -> None:
    """Load ``source`` and serve it until SIGINT/SIGTERM (uvicorn finishes open requests, then exits).

    With ``cfg.workers`` > 1, uvicorn's supervisor starts that many processes on one listening
    socket (the kernel spreads connections over them); each builds its app through
    :func:`worker_app`. One Python process serves one core at most, so on a machine with
    several cores this is what lets the server use them.
    """
    import uvicorn

    if cfg.workers < 1:
        raise ConfigError(f"workers must be >= 1, got {cfg.workers}")
    if cfg.workers > 1 and cfg.threads is None:  # several processes each taking every core would fight over them
        cfg = dataclasses.replace(cfg, threads=max(1, _usable_cores() // cfg.workers))
    model = load_for_serving(source, cfg.threads)  # in the parent too: a bad model fails here with one line
    with socket.socket(socket.AF_INET6 if ":" in cfg.host else socket.AF_INET) as probe:
        try:
            probe.bind((cfg.host, cfg.port))
        except OSError as err:
            raise ConfigError(f"cannot listen on {cfg.host}:{cfg.port} ({err.strerror or err})") from None
    workers = f", {cfg.workers} worker processes" if cfg.workers > 1 else ""
    print(f"aekit serve: {model.kind} ({model.family}) on http://{cfg.host}:{cfg.port}{workers} (docs at /docs)", flush=True)
    settings = dict(host=cfg.host, port=cfg.port, log_level="warning", timeout_graceful_shutdown=10)
    # uvicorn's supervisor takes over these signals: every one is handed back afterwards
    names = ("SIGINT", "SIGTERM", "SIGHUP", "SIGTTIN", "SIGTTOU", "SIGBREAK")
    previous = {sig: signal.getsignal(sig) for sig in (getattr(signal, n) for n in names if hasattr(signal, n))}
    # uvicorn finishes open requests on SIGTERM, then re-raises the signal: end with status 0 instead of dying by it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if cfg.workers == 1:
            uvicorn.Server(uvicorn.Config(create_app(model, cfg), **settings)).run()
        else:
            from uvicorn.config import STARTUP_FAILURE
            from uvicorn.supervisors import Multiprocess

            del model  # each worker loads its own
            os.environ[WORKER_SPEC] = json.dumps({"source": str(source), "cfg": dataclasses.asdict(cfg)})
            config = uvicorn.Config(f"{__name__}:worker_app", factory=True, workers=cfg.workers, **settings)
            supervisor = Multiprocess(config, sockets=[config.bind_socket()])  # its own SIGINT/SIGTERM handling
            supervisor.run()
            failed = [p for p in supervisor.processes if p.exitcode == STARTUP_FAILURE]
            if failed:  # the supervisor gives up quietly when a worker cannot start: that is not a clean stop
                raise ConfigError(f"{len(failed)} of {cfg.workers} worker processes failed to start (see the lines above)")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("aekit serve: stopped", flush=True)


def _usable_cores() -> int:
    """Cores this process may run on (a container's or taskset's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_app() -> Any:
    """The application of one worker process of ``aekit serve --workers N`` (a uvicorn factory:
    the source and settings come from the parent through the environment)."""
    from uvicorn.config import STARTUP_FAILURE

    try:
        spec = json.loads(os.environ[WORKER_SPEC])
        cfg = ServeConfig(**spec["cfg"])
        return create_app(load_for_serving(spec["source"], cfg.threads), cfg)
    except Exception as err:  # noqa: BLE001 - uvicorn would restart a worker that dies otherwise, forever
        print(f"aekit: error: worker process: {err}", file=sys.stderr, flush=True)
        sys.exit(STARTUP_FAILURE)  # the supervisor stops on this code; run_server then ends with an error


def wait_until_ready(base: str, timeout: float = 30.0, alive: Any = None) -> bool:
    """Poll ``base``/health until the server answers 200 (True) or ``timeout`` seconds pass (False).

    ``alive`` (a callable) is asked between tries; when it returns False (the server process
    exited) the wait stops at once.
    """
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.1)
        if alive is not None and not alive():
            return False
    return False
