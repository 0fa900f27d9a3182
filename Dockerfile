# The workshop's web image: Python and what server.py needs (requirements.txt), run as an
# ordinary user. Build it with:  docker build -t docker-workshop-web:1.0 .
#
# On purpose, the image does NOT contain server.py. That is the workshop's story: in
# step 2, `docker run ... docker-workshop-web:1.0 python server.py` fails because the file
# is missing; in step 3 you mount it from your directory into the working directory:
#   docker run ... -v "$PWD"/server.py:/app/server.py docker-workshop-web:1.0 python server.py
# A change to server.py then needs no rebuild, only a restart of the container.

# The base image; .env's PYTHON_IMAGE, passed by docker compose as a build argument.
ARG PYTHON_IMAGE=python:3.13-slim
FROM ${PYTHON_IMAGE}

WORKDIR /app
# Root is not needed to serve HTTP on port 8080: the server runs as this user
# (USER takes its number: with a number, Docker and Kubernetes can tell it is not root).
RUN useradd --system --uid 10001 --no-create-home web

# Dependencies first: Docker reuses this layer until requirements.txt changes.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
USER 10001

EXPOSE 8080
# Healthy when GET /health answers 200, i.e. the server runs AND reaches its database.
# Python's urllib, because the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4)"]
CMD ["python", "server.py"]
