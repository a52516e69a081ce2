# Hand-written multi-stage build: install production dependencies with npm on the full Node image,
# run on the slim one (the playbook's node:alpine). Bases filled in by benchmarks/build.py.
FROM {fat-node} AS build
ARG NODE_EXTRA_CA_CERTS=
WORKDIR /usr/src/app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY . .

FROM {slim-node}
WORKDIR /usr/src/app
COPY --from=build /usr/src/app ./
ENV NODE_ENV=production PORT=8080
EXPOSE 8080
CMD ["node", "server.js"]
