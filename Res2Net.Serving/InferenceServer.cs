using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Prometheus;

namespace Res2Net.Serving;

/// <summary>
/// Compiled networks behind ASP.NET Core (Kestrel, minimal APIs): the Open Inference Protocol
/// (<see cref="OpenInferenceProtocol"/>), TorchServe's image endpoint (<see cref="TorchServeApi"/>) and Prometheus
/// metrics at <c>GET /metrics</c>, each model with its own <see cref="DynamicBatcher"/>. Stateless: replicas behind a
/// load balancer need nothing from each other.
/// </summary>
/// <example>
/// <code>
/// var network = Res2NetModels.Create("res2net50-w14-s8_3rdparty_8xb32_in1k");
/// network.Load("res2net50-w14-s8_3rdparty_8xb32_in1k_20210927-bc967bf1.pth");
/// await using var server = await InferenceServer.StartAsync([new ServedModel(network, ClassNames.For(network.Info))],
///     new ServingOptions { Urls = ["http://127.0.0.1:8080"] });
/// await server.WaitForShutdownAsync();   // until SIGTERM or Ctrl-C; what is in flight is finished
/// </code>
/// </example>
public sealed class InferenceServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ModelRepository _models;
    private int _stopped;

    private InferenceServer(WebApplication app, ModelRepository models, long maxRequestBodyBytes)
    {
        _app = app;
        _models = models;
        MaxRequestBodyBytes = maxRequestBodyBytes;
    }

    /// <summary>The addresses it listens on, with the port chosen for a URL that asked for port 0.</summary>
    public IReadOnlyList<string> Urls => [.. _app.Urls];

    /// <summary>The body limit in force (<see cref="ServingOptions.MaxRequestBodyBytes"/> or its default).</summary>
    public long MaxRequestBodyBytes { get; }

    /// <summary>The models with their batchers, for tests that watch the queues.</summary>
    internal ModelRepository Repository => _models;

    /// <summary>The names the models are served under.</summary>
    public IReadOnlyList<string> Models => [.. _models.Names];

    /// <summary>Starts listening; returns once the server takes requests.</summary>
    /// <exception cref="ArgumentException">No models, two with one name, or an option out of range.</exception>
    /// <exception cref="IOException">An address cannot be bound (in use, or not this machine's).</exception>
    public static async Task<InferenceServer> StartAsync(IReadOnlyList<ServedModel> models, ServingOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(options);
        if (models.Count == 0) throw new ArgumentException("no model to serve", nameof(models));
        options.Validate();
        long bodyLimit = options.BodyLimit(models);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "res2net",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls([.. options.Urls]);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = bodyLimit;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.Configure<FormOptions>(form =>
        {
            form.MultipartBodyLengthLimit = bodyLimit;
            form.ValueCountLimit = 64;
        });
        if (!options.HandleSignals) builder.Services.AddSingleton<IHostLifetime, HostedLifetime>();
        ConfigureLogging(builder.Logging, options);

        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(ServingLog.Category);
        var metrics = new ServingMetrics(options.MaxBatch);
        var repository = new ModelRepository(models.Select(m => new DynamicBatcher(m, options, metrics, log)));
        var handling = new RequestHandling(repository, metrics, log, bodyLimit);

        app.UseRouting();
        app.Use(handling.InvokeAsync);
        new OpenInferenceProtocol(repository, options).Map(app);
        new TorchServeApi(repository, options).Map(app);
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }).WithName("metrics");

        // Kestrel stops first and finishes the requests in flight, which the batchers still run; they stop after it.
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            repository.Ready = false;
            ServingLog.Stopping(log, options.ShutdownTimeout.TotalSeconds);
        });
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            foreach (var batcher in repository.Batchers) batcher.Stop();
            ServingLog.Stopped(log);
        });

        foreach (var batcher in repository.Batchers)
        {
            batcher.Start();
            var info = batcher.Model.Info;
            ServingLog.ModelServed(log, batcher.Model.Name, info.InputHeight, info.InputWidth, info.NumClasses, options.MaxBatch,
                options.MaxDelay.TotalMilliseconds, options.QueueCapacity, options.Timeout.TotalMilliseconds);
        }
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            foreach (var batcher in repository.Batchers) batcher.Stop();
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (options.WarmUp)
        {
            // Listening already (liveness answers), not yet ready: requests that come now wait behind the warm-up forward.
            try
            {
                await Task.Run(() => WarmUp(repository, options, log), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false); // stops the batchers too (ApplicationStopped)
                await app.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        repository.Ready = true;
        var server = new InferenceServer(app, repository, bodyLimit);
        ServingLog.Listening(log, string.Join(" ", server.Urls), bodyLimit);
        return server;
    }

    /// <summary>
    /// Runs each model's forward on blank images at batch 1, then at the largest batch whose images run side by side (one
    /// per thread, up to <see cref="ServingOptions.MaxBatch"/>): the first compiles the kernels, the second makes the
    /// replicas a batched forward runs on.
    /// </summary>
    private static void WarmUp(ModelRepository repository, ServingOptions options, ILogger log)
    {
        foreach (var batcher in repository.Batchers)
        {
            var model = batcher.Model;
            int sideBySide = Math.Min(options.MaxBatch, Res2Net.Runtime.Kernels.Workers.MaxThreads);
            foreach (int batch in sideBySide > 1 ? new[] { 1, sideBySide } : [1])
            {
                var input = new float[(long)batch * model.Info.InputElements];
                var logits = new float[batch * model.Info.NumClasses];
                long start = System.Diagnostics.Stopwatch.GetTimestamp();
                model.Forward(input, batch, logits);
                ServingLog.WarmedUp(log, model.Name, batch, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
    }

    /// <summary>Waits until the server is told to stop (SIGTERM, Ctrl-C, <see cref="StopAsync"/>), then stops it gracefully.</summary>
    public async Task WaitForShutdownAsync(CancellationToken cancellationToken = default)
    {
        await _app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _stopped, 1);
    }

    /// <summary>
    /// Stops gracefully: readiness turns false, no new connections are taken, requests in flight are finished (up to
    /// <see cref="ServingOptions.ShutdownTimeout"/>), then the batchers end.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0) await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static void ConfigureLogging(ILoggingBuilder logging, ServingOptions options)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(options.LogLevel);
        // ASP.NET Core's own per-request events and the host's banner repeat what the server logs itself.
        logging.AddFilter("Microsoft", LogLevel.Warning);
        switch (options.LogFormat)
        {
            case ServingLogFormat.Json:
                logging.AddJsonConsole(json =>
                {
                    json.UseUtcTimestamp = true;
                    json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                });
                break;
            case ServingLogFormat.Simple:
                logging.AddSimpleConsole(simple =>
                {
                    simple.SingleLine = true;
                    simple.UseUtcTimestamp = true;
                    simple.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                });
                break;
        }
        // Standard output is the command's (the "listening on" lines); the log goes to standard error.
        logging.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
    }

    /// <summary>A lifetime that leaves the process's signals alone: the host process stops the server itself.</summary>
    private sealed class HostedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
