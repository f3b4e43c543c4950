using Res2Net.Runtime.Networks;
using Xunit;

namespace Res2Net.Tests.Serving;

/// <summary>
/// Batching, the bounded queue, deadlines and graceful shutdown, made deterministic by a forward that holds each
/// batch until the test lets it go (<see cref="ForwardGate"/>): the order of events is the test's, not the scheduler's.
/// </summary>
public sealed class DynamicBatchingTests
{
    private const string Model = "tiny-plain";

    private static readonly int[] OneImage = [1, 3, 48, 40];

    /// <summary>A server of tiny-plain whose forward waits at a gate, with the gate, the model's batcher and the network.</summary>
    private static async Task<(ServingHarness Harness, ForwardGate Gate, Res2Net.Serving.DynamicBatcher Batcher, CompiledNetwork Network)> StartGatedAsync(
        Res2Net.Serving.ServingOptions options)
    {
        var network = ServingHarness.Loaded(Model);
        var gate = new ForwardGate();
        // No warm-up: the gate would hold its forward, and the batches the tests count are the requests' alone.
        var harness = await ServingHarness.StartAsync(options with { WarmUp = false }, gate.Serve(network));
        return (harness, gate, harness.Server.Repository.Get(Model), network);
    }

    /// <summary>
    /// Warm-up: before StartAsync returns (readiness true), each model's forward ran on blank images at batch 1, then at
    /// the batch its threads run side by side (when that is above 1 and within the max batch); without it, no forward ran.
    /// </summary>
    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 4)]
    [InlineData(false, 4)]
    public async Task TheServerWarmsEachModelUpBeforeItReportsReady(bool warmUp, int maxBatch)
    {
        var network = ServingHarness.Loaded(Model);
        var batches = new System.Collections.Concurrent.ConcurrentQueue<(int Batch, bool Blank)>();
        var model = new Res2Net.Serving.ServedModel(network, null, null, (input, batch, logits) =>
        {
            batches.Enqueue((batch, !input.ContainsAnyExcept(0f)));
            network.Forward(input, batch, logits);
        });
        await using var harness = await ServingHarness.StartAsync(ServingHarness.Options(maxBatch: maxBatch) with { WarmUp = warmUp }, model);
        var ready = await harness.Client.GetAsync("/v2/health/ready");
        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
        var seen = batches.ToArray();
        if (!warmUp)
        {
            Assert.Empty(seen);
            return;
        }
        Assert.All(seen, b => Assert.True(b.Blank, "a warm-up image was not blank"));
        Assert.Equal(1, seen[0].Batch);
        if (maxBatch == 1) Assert.Single(seen);
        else Assert.True(seen.Length == 1 || (seen.Length == 2 && seen[1].Batch >= 2 && seen[1].Batch <= maxBatch),
            $"warm-up batches {string.Join(", ", seen.Select(b => b.Batch))}: 1, then one image per thread up to {maxBatch}");
    }

    private static float[][] Images(CompiledNetwork network, int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(_ => Enumerable.Range(0, network.Info.InputElements).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray())
            .ToArray();
    }

    [Fact]
    public async Task RequestsQueuedDuringAForwardRunAsOneBatchAndGetTheirOwnLogitsBitForBit()
    {
        var (harness, gate, batcher, network) = await StartGatedAsync(ServingHarness.Options(maxBatch: 8, maxDelayMs: 0));
        await using var _ = harness;
        var images = Images(network, 6, seed: 3);
        var expected = images.Select(image => network.Forward(image, 1)).ToArray();

        var first = harness.InferAsync(Model, images[0], OneImage);
        await gate.EnteredAsync();                                        // the first request's batch of 1 is in the forward
        var rest = images.Skip(1).Select(image => harness.InferAsync(Model, image, OneImage)).ToArray();
        await ServingHarness.EventuallyAsync(() => batcher.Queued == 5, "the other five are queued");
        Assert.Equal(5, await harness.MetricAsync($"res2net_queue_depth{{model=\"{Model}\"}}"));
        gate.Open();

        var answers = await Task.WhenAll(rest.Prepend(first));
        Assert.Equal(new[] { 1, 5 }, gate.Batches);                       // the five ran together, wherever each sat in the batch
        for (int i = 0; i < images.Length; i++)
        {
            var (logits, _, _) = await ServingHarness.LogitsAsync(answers[i]);
            Assert.Equal(expected[i].Select(BitConverter.SingleToInt32Bits), logits.Select(BitConverter.SingleToInt32Bits));
        }
        Assert.Equal(2, await harness.MetricAsync($"res2net_batch_size_count{{model=\"{Model}\"}}"));
        Assert.Equal(6, await harness.MetricAsync($"res2net_batch_size_sum{{model=\"{Model}\"}}"));
    }

    [Fact]
    public async Task ARequestThatDoesNotFitTheBatchWholeOpensTheNextOne()
    {
        var (harness, gate, batcher, network) = await StartGatedAsync(ServingHarness.Options(maxBatch: 4, maxDelayMs: 0));
        await using var _ = harness;
        var images = Images(network, 6, seed: 4);

        var first = harness.InferAsync(Model, images[0], OneImage);
        await gate.EnteredAsync();
        var three = harness.InferAsync(Model, images.Skip(1).Take(3).SelectMany(x => x).ToArray(), [3, 3, 48, 40]);
        await ServingHarness.EventuallyAsync(() => batcher.Queued == 1, "the request of three is queued");
        var two = harness.InferAsync(Model, images.Skip(4).SelectMany(x => x).ToArray(), [2, 3, 48, 40]);
        await ServingHarness.EventuallyAsync(() => batcher.Queued == 2, "the request of two is queued");
        gate.Open();

        await Task.WhenAll(first, three, two);
        Assert.Equal(new[] { 1, 3, 2 }, gate.Batches);                    // 3 + 2 > 4: the two go in the next batch
        var (logits, shape, _) = await ServingHarness.LogitsAsync(await two);
        Assert.Equal(new[] { 2, 10 }, shape);
        Assert.Equal(network.Forward(images[4], 1).Concat(network.Forward(images[5], 1)), logits);
    }

    [Fact]
    public async Task AFullQueueAnswers503WithRetryAfterAndTheQueuedRequestsStillRun()
    {
        var (harness, gate, batcher, network) = await StartGatedAsync(ServingHarness.Options(maxBatch: 1, queue: 2, maxDelayMs: 0));
        await using var _ = harness;
        var (input, _) = Fixtures.Npy("tiny-plain.input.npy");
        var image = input.AsSpan(0, network.Info.InputElements).ToArray();

        var running = harness.InferAsync(Model, image, OneImage);
        await gate.EnteredAsync();
        var queued = new[] { harness.InferAsync(Model, image, OneImage), harness.InferAsync(Model, image, OneImage) };
        await ServingHarness.EventuallyAsync(() => batcher.Queued == 2, "two requests are queued");

        var refused = await harness.InferAsync(Model, image, OneImage);
        var (status, message) = await ServingHarness.ErrorAsync(refused);
        Assert.Equal(503, status);
        Assert.Contains("--queue 2", message);
        Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
        // The image endpoint is refused the same way, before its body is even decoded.
        var (imageStatus, _) = await ServingHarness.ErrorAsync(await harness.PredictAsync(Model, File.ReadAllBytes(Fixtures.Path("images", "demo", "dog.jpg"))));
        Assert.Equal(503, imageStatus);

        gate.Open();
        foreach (var answer in await Task.WhenAll(queued.Prepend(running))) await ServingHarness.LogitsAsync(answer);
        Assert.Equal(1, await harness.MetricAsync($"res2net_requests_total{{endpoint=\"infer\",model=\"{Model}\",code=\"503\"}}"));
    }

    [Fact]
    public async Task PastItsDeadlineARequestIsAnswered504AndDroppedFromTheQueue()
    {
        var (harness, gate, batcher, network) = await StartGatedAsync(ServingHarness.Options(maxBatch: 1, maxDelayMs: 0, timeoutMs: 300));
        await using var _ = harness;
        var image = Images(network, 1, seed: 5)[0];

        var held = harness.InferAsync(Model, image, OneImage);           // in the forward when its deadline passes
        await gate.EnteredAsync();
        var waiting = harness.InferAsync(Model, image, OneImage);        // still queued when its deadline passes
        await ServingHarness.EventuallyAsync(() => batcher.Queued == 1, "the second request is queued");

        foreach (var answer in await Task.WhenAll(held, waiting))
        {
            var (status, message) = await ServingHarness.ErrorAsync(answer);
            Assert.Equal(504, status);
            Assert.Contains("deadline of 300 ms", message);
        }
        gate.Open();
        await ServingHarness.EventuallyAsync(() => batcher.Queued == 0 && batcher.Waiting == 0, "the expired request left the queue");
        var fresh = await harness.InferAsync(Model, image, OneImage);    // and the server goes on
        await ServingHarness.LogitsAsync(fresh);
        Assert.Equal(new[] { 1, 1 }, gate.Batches);                       // the expired request never ran; the fresh one did
        Assert.Equal(1, await harness.MetricAsync($"res2net_dropped_requests_total{{model=\"{Model}\"}}"));
    }

    [Fact]
    public async Task StoppingFinishesTheRequestsInFlightAndTakesNoNewOnes()
    {
        var (harness, gate, batcher, network) = await StartGatedAsync(ServingHarness.Options(maxBatch: 1, maxDelayMs: 0));
        var image = Images(network, 1, seed: 6)[0];
        var expected = network.Forward(image, 1);
        try
        {
            var running = harness.InferAsync(Model, image, OneImage);
            await gate.EnteredAsync();
            var queued = harness.InferAsync(Model, image, OneImage);
            await ServingHarness.EventuallyAsync(() => batcher.Queued == 1, "the second request is queued");

            var stopping = harness.Server.StopAsync();
            await Task.Delay(200);
            Assert.False(stopping.IsCompleted, "the server stopped with requests in flight");
            await Assert.ThrowsAsync<HttpRequestException>(() => new HttpClient().GetAsync(new Uri(harness.Client.BaseAddress!, "/v2/health/live")));

            gate.Open();
            foreach (var answer in await Task.WhenAll(running, queued))
            {
                var (logits, _, _) = await ServingHarness.LogitsAsync(answer);
                Assert.Equal(expected, logits);
            }
            await stopping.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(new[] { 1, 1 }, gate.Batches);
        }
        finally
        {
            gate.Open();
            await harness.DisposeAsync();
        }
    }
}
