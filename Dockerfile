# vector-ingest worker / CLI image.
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
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY examples ./examples
USER node
# SIGTERM drains running activities (30 s grace) before clients close: keep stop_grace_period above it.
ENTRYPOINT ["node", "bin/vector-ingest.js"]
CMD ["worker"]
