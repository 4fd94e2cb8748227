# syntax=docker/dockerfile:1
# The relay as a container: docker build -t khala-relay . (compose.yaml builds it too).
# Configuration is by environment: Relay__ConnectionString (Npgsql keywords or a postgres:// URL), Relay__Auth__Keys__<kid>
# or Relay__Auth__JwksFile, Relay__Feed; see docs/architecture.md §6 and docs/deployment.md.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files only, so that a source change reuses the restored layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY Relay.Protocol/Relay.Protocol.csproj Relay.Protocol/
COPY Relay.Core/Relay.Core.csproj Relay.Core/
COPY Relay.Client/Relay.Client.csproj Relay.Client/
COPY Relay.Host/Relay.Host.csproj Relay.Host/
RUN dotnet restore Relay.Host/Relay.Host.csproj
COPY proto/ proto/
COPY sql/ sql/
COPY Relay.Protocol/ Relay.Protocol/
COPY Relay.Core/ Relay.Core/
COPY Relay.Client/ Relay.Client/
COPY Relay.Host/ Relay.Host/
RUN dotnet publish Relay.Host/Relay.Host.csproj --configuration Release --no-restore --output /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The image's non-root user (uid 1654, "app"); the relay writes nothing to disk when given a connection string.
USER $APP_UID
ENV ASPNETCORE_URLS=http://0.0.0.0:8080
EXPOSE 8080
# Ready: the database answers and the journal feed streams (GET /readyz); the runtime image has no curl.
HEALTHCHECK --interval=10s --timeout=6s --start-period=30s --retries=3 \
    CMD ["dotnet", "/app/relay.dll", "probe", "--url", "http://127.0.0.1:8080"]
ENTRYPOINT ["dotnet", "/app/relay.dll"]
CMD ["serve"]
