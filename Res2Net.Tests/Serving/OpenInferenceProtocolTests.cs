using System.Text.Json;
using Res2Net.Tests.Forward;
using Xunit;

namespace Res2Net.Tests.Serving;

/// <summary>
/// The Open Inference Protocol endpoints of a real server holding two models at once (tiny-plain and tiny-deep with
/// their PyTorch-saved checkpoints): health, metadata, and infer, whose logits must be PyTorch's within the product's
/// tolerance and the library's own bit for bit, whatever batch the server ran them in.
/// </summary>
public sealed class OpenInferenceProtocolTests : IAsyncLifetime
{
    private ServingHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await ServingHarness.StartAsync(ServingHarness.Options(maxBatch: 8, maxDelayMs: 20));

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task HealthAndServerMetadataAnswerAsKServesServerDoes()
    {
        var client = _harness.Client;
        var live = await client.GetAsync("/v2/health/live");
        Assert.Equal(200, (int)live.StatusCode);
        Assert.True(JsonDocument.Parse(await live.Content.ReadAsStringAsync()).RootElement.GetProperty("live").GetBoolean());
        var ready = await client.GetAsync("/v2/health/ready");
        Assert.Equal(200, (int)ready.StatusCode);
        Assert.True(JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("ready").GetBoolean());
        var modelReady = JsonDocument.Parse(await client.GetStringAsync("/v2/models/tiny-deep/ready")).RootElement;
        Assert.Equal("tiny-deep", modelReady.GetProperty("name").GetString());
        Assert.True(modelReady.GetProperty("ready").GetBoolean());

        var server = JsonDocument.Parse(await client.GetStringAsync("/v2")).RootElement;
        Assert.Equal("res2net", server.GetProperty("name").GetString());
        Assert.Equal(new[] { "tiny-plain", "tiny-deep" }, server.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        var ping = JsonDocument.Parse(await client.GetStringAsync("/ping")).RootElement;
        Assert.Equal("Healthy", ping.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ModelMetadataNamesTheInputAndOutputWithTheirShapes()
    {
        var metadata = JsonDocument.Parse(await _harness.Client.GetStringAsync("/v2/models/tiny-plain")).RootElement;
        Assert.Equal("tiny-plain", metadata.GetProperty("name").GetString());
        Assert.Equal("res2net_dotnet", metadata.GetProperty("platform").GetString());
        var input = metadata.GetProperty("inputs").EnumerateArray().Single();
        Assert.Equal("input", input.GetProperty("name").GetString());
        Assert.Equal("FP32", input.GetProperty("datatype").GetString());
        Assert.Equal(new[] { -1, 3, 48, 40 }, input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        var output = metadata.GetProperty("outputs").EnumerateArray().Single();
        Assert.Equal("logits", output.GetProperty("name").GetString());
        Assert.Equal(new[] { -1, 10 }, output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal(8, metadata.GetProperty("parameters").GetProperty("max_batch_size").GetInt32());
        Assert.Equal("tiny-plain.pth", metadata.GetProperty("parameters").GetProperty("checkpoint").GetString());
    }

    [Theory]
    [InlineData("tiny-plain")]
    [InlineData("tiny-deep")]
    public async Task InferGivesPyTorchsLogitsForABatchOfTwo(string name)
    {
        // tools/reference/make_fixtures.py: the input [2, 3, 48, 40] and the logits PyTorch computed for it.
        var (input, shape) = Fixtures.Npy(name + ".input.npy");
        var (expected, expectedShape) = Fixtures.Npy(name + ".logits.npy");

        var (logits, logitsShape, root) = await ServingHarness.LogitsAsync(await _harness.InferAsync(name, input, shape, id: "request-7"));

        Assert.Equal(expectedShape, logitsShape);
        Assert.Equal(name, root.GetProperty("model_name").GetString());
        Assert.Equal("request-7", root.GetProperty("id").GetString());
        var (diff, _) = Fixtures.Compare(logits, expected);
        Assert.True(diff <= Tolerances.LogitsAbsolute, $"max |logit − PyTorch| = {diff:E2} > {Tolerances.LogitsAbsolute:E0}");
    }

    [Fact]
    public async Task ConcurrentRequestsAreBatchedAndEachGetsTheDirectCallsLogitsBitForBit()
    {
        // 24 single images sent at once to a server that gathers for 20 ms, up to 8: they share forwards, at places
        // that vary from run to run. Each must come back with exactly the bits of a direct one-image call.
        var network = _harness.Models[0].Classifier.Network;
        int elements = network.Info.InputElements;
        var random = new Random(12);
        var images = Enumerable.Range(0, 24).Select(_ => Enumerable.Range(0, elements).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray()).ToArray();
        var expected = images.Select(image => network.Forward(image, 1)).ToArray();
        double batchesBefore = await _harness.MetricAsync("res2net_batch_size_count{model=\"tiny-plain\"}");

        var answers = await Task.WhenAll(images.Select(image => _harness.InferAsync("tiny-plain", image, [1, 3, 48, 40])));

        for (int i = 0; i < images.Length; i++)
        {
            var (logits, shape, _) = await ServingHarness.LogitsAsync(answers[i]);
            Assert.Equal(new[] { 1, 10 }, shape);
            Assert.Equal(expected[i].Select(BitConverter.SingleToInt32Bits), logits.Select(BitConverter.SingleToInt32Bits));
        }
        double batches = await _harness.MetricAsync("res2net_batch_size_count{model=\"tiny-plain\"}") - batchesBefore;
        Assert.True(batches < images.Length, $"24 concurrent requests ran in {batches} forwards: none was batched");
    }

    [Fact]
    public async Task NestedDataIsTheSameTensorAsFlatData()
    {
        // The protocol allows data nested as the shape: [[[[…]]]]. It must give what the flat form gives.
        var (input, _) = Fixtures.Npy("tiny-plain.input.npy");
        var single = input.AsSpan(0, 3 * 48 * 40).ToArray();
        string nested = "[[" + string.Join(",", Enumerable.Range(0, 3).Select(c =>
            "[" + string.Join(",", Enumerable.Range(0, 48).Select(y =>
                "[" + string.Join(",", Enumerable.Range(0, 40).Select(x => single[(c * 48 + y) * 40 + x].ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]")) + "]")) + "]]";
        var body = ServingHarness.Json($"{{\"inputs\": [{{\"name\": \"input\", \"shape\": [1, 3, 48, 40], \"datatype\": \"FP32\", \"data\": {nested}}}], \"outputs\": [{{\"name\": \"logits\"}}]}}");

        var (fromNested, _, _) = await ServingHarness.LogitsAsync(await _harness.Client.PostAsync("/v2/models/tiny-plain/infer", body));
        var (fromFlat, _, _) = await ServingHarness.LogitsAsync(await _harness.InferAsync("tiny-plain", single, [1, 3, 48, 40]));

        Assert.Equal(fromFlat, fromNested);
    }

    [Fact]
    public async Task MetricsCountRequestsBatchesAndLatencyInPrometheusFormat()
    {
        var (input, shape) = Fixtures.Npy("tiny-deep.input.npy");
        await ServingHarness.LogitsAsync(await _harness.InferAsync("tiny-deep", input, shape));
        await _harness.Client.GetAsync("/v2/models/tiny-deep");

        var response = await _harness.Client.GetAsync("/metrics");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE res2net_requests_total counter", text);
        Assert.Contains("# TYPE res2net_request_duration_seconds histogram", text);
        Assert.Contains("# TYPE res2net_batch_size histogram", text);
        Assert.Contains("# TYPE res2net_queue_depth gauge", text);
        Assert.Contains("# TYPE res2net_forward_duration_seconds histogram", text);
        Assert.Contains("process_working_set_bytes", text);   // the process's memory, from prometheus-net's DotNetStats
        Assert.True(await _harness.MetricAsync("res2net_requests_total{endpoint=\"infer\",model=\"tiny-deep\",code=\"200\"}") >= 1);
        Assert.True(await _harness.MetricAsync("res2net_requests_total{endpoint=\"model_metadata\",model=\"tiny-deep\",code=\"200\"}") >= 1);
        Assert.True(await _harness.MetricAsync("res2net_batch_size_bucket{model=\"tiny-deep\",le=\"2\"}") >= 1);   // the batch of two
        Assert.Equal(0, await _harness.MetricAsync("res2net_queue_depth{model=\"tiny-deep\"}"));
        Assert.True(await _harness.MetricAsync("res2net_request_duration_seconds_count{endpoint=\"infer\",model=\"tiny-deep\"}") >= 1);
    }
}
