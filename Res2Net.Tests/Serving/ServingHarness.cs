using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Res2Net.Runtime.Networks;
using Res2Net.Serving;
using Res2Net.Tests.Datasets;
using Xunit;

namespace Res2Net.Tests.Serving;

/// <summary>
/// A real server (Kestrel on 127.0.0.1, a port the system chooses) serving the tiny test networks with their
/// PyTorch-saved checkpoints, and a client for it. No log output: the tests read the answers and the metrics.
/// </summary>
internal sealed class ServingHarness : IAsyncDisposable
{
    private ServingHarness(InferenceServer server, IReadOnlyList<ServedModel> models)
    {
        Server = server;
        Models = models;
        Client = new HttpClient { BaseAddress = new Uri(server.Urls[0]), Timeout = TimeSpan.FromSeconds(60) };
    }

    public InferenceServer Server { get; }

    public IReadOnlyList<ServedModel> Models { get; }

    public HttpClient Client { get; }

    /// <summary>Options every test server shares: loopback, a free port, no log, no signal handling (the test process's own).</summary>
    public static ServingOptions Options(int maxBatch = 8, int queue = 64, int maxDelayMs = 5, int timeoutMs = 30_000, long? maxBody = null) => new()
    {
        Urls = ["http://127.0.0.1:0"],
        MaxBatch = maxBatch,
        QueueCapacity = queue,
        MaxDelay = TimeSpan.FromMilliseconds(maxDelayMs),
        Timeout = TimeSpan.FromMilliseconds(timeoutMs),
        MaxRequestBodyBytes = maxBody,
        LogFormat = ServingLogFormat.None,
        HandleSignals = false,
        ShutdownTimeout = TimeSpan.FromSeconds(20),
    };

    /// <summary>tiny-plain and tiny-deep, each with the checkpoint PyTorch saved for it.</summary>
    public static Task<ServingHarness> StartAsync(ServingOptions options) =>
        StartAsync(options, new ServedModel(Loaded("tiny-plain")), new ServedModel(Loaded("tiny-deep")));

    public static async Task<ServingHarness> StartAsync(ServingOptions options, params ServedModel[] models) =>
        new(await InferenceServer.StartAsync(models, options), models);

    public static CompiledNetwork Loaded(string name)
    {
        var network = Res2Net.Tests.Networks.Res2NetModels.Create(name);
        network.Load(Fixtures.Path(name + ".pth"));
        return network;
    }

    /// <summary>An infer request for <paramref name="data"/> of <paramref name="shape"/>, floats in their shortest round-trip form.</summary>
    public static HttpContent InferBody(ReadOnlySpan<float> data, int[] shape, string? id = null)
    {
        var content = new ByteArrayContent(InferRequestWriter.Write(data, shape, id));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    public static HttpContent Json(string text) => new StringContent(text, Encoding.UTF8, "application/json");

    public Task<HttpResponseMessage> InferAsync(string model, ReadOnlySpan<float> data, int[] shape, string? id = null) =>
        Client.PostAsync($"/v2/models/{model}/infer", InferBody(data, shape, id));

    /// <summary>The logits of an infer answer (which must be 200), with their shape.</summary>
    public static async Task<(float[] Logits, int[] Shape, JsonElement Root)> LogitsAsync(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var root = JsonDocument.Parse(text).RootElement;
        var output = root.GetProperty("outputs")[0];
        Assert.Equal("logits", output.GetProperty("name").GetString());
        Assert.Equal("FP32", output.GetProperty("datatype").GetString());
        return (output.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray(),
            output.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray(), root);
    }

    /// <summary>The error an answer carries: its status and the message of its <c>{"error": "…"}</c> body.</summary>
    public static async Task<(int Status, string Message)> ErrorAsync(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(text);
        Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        Assert.Single(json.RootElement.EnumerateObject());
        return ((int)response.StatusCode, json.RootElement.GetProperty("error").GetString()!);
    }

    /// <summary>A POST of raw image bytes to <c>/predictions/{model}</c>.</summary>
    public Task<HttpResponseMessage> PredictAsync(string model, byte[] image, string query = "")
    {
        var content = new ByteArrayContent(image);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return Client.PostAsync($"/predictions/{model}{query}", content);
    }

    /// <summary>A sample's value in the Prometheus text at <c>/metrics</c>, e.g. <c>res2net_batch_size_sum{model="tiny-plain"}</c>; 0 when absent.</summary>
    public async Task<double> MetricAsync(string sample)
    {
        string text = await Client.GetStringAsync("/metrics");
        var match = Regex.Match(text, "^" + Regex.Escape(sample) + @" (\S+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>Waits (at most 20 s) until <paramref name="condition"/> holds.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(5);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// A forward that holds each batch until the test opens the gate: it makes queueing, batching, deadlines and shutdown
/// happen in a known order. Each batch then runs the network's own forward.
/// </summary>
internal sealed class ForwardGate
{
    private readonly SemaphoreSlim _entered = new(0);
    private readonly ManualResetEventSlim _open = new(false);

    /// <summary>The size of every batch that reached the forward, in order.</summary>
    public ConcurrentQueue<int> Batches { get; } = new();

    public ServedModel Serve(CompiledNetwork network) =>
        new(network, null, null, (input, batch, logits) =>
        {
            Batches.Enqueue(batch);
            _entered.Release();
            if (!_open.Wait(TimeSpan.FromSeconds(60))) throw new TimeoutException("the test never opened the gate");
            network.Forward(input, batch, logits);
        });

    /// <summary>Waits until a batch is held at the gate.</summary>
    public async Task EnteredAsync()
    {
        if (!await _entered.WaitAsync(TimeSpan.FromSeconds(20))) Assert.Fail("no batch reached the forward within 20 s");
    }

    public void Open() => _open.Set();
}
