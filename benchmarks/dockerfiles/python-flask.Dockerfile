# Hand-written multi-stage build: pip install into a directory on python:slim, copy it into a
# fresh python:slim (the usual pattern). Bases filled in by benchmarks/build.py.
FROM {slim-python} AS build
ARG PIP_CERT=
WORKDIR /app
COPY requirements.txt ./
RUN python3 -m pip install --no-cache-dir --target=/deps -r requirements.txt

FROM {slim-python}
COPY --from=build /deps /deps
WORKDIR /app
COPY . .
ENV PORT=8080 PYTHONPATH=/deps
EXPOSE 8080
CMD ["python3", "app.py"]
