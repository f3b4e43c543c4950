using System.Text.Json;
using Res2Net.Runtime.Binding;
using Res2Net.Tests.Cli;
using Res2Net.Tests.Forward;
using Xunit;

namespace Res2Net.Tests.Serving;

/// <summary>
/// <c>res2net serve</c> run as a user runs it, a process of its own on 127.0.0.1, with the full-size res2net50-w14-s8 on
/// its seeded weights saved as a checkpoint (so PyTorch's logits for them apply): it answers as PyTorch does, survives being killed under
/// load by coming back on the same port and serving the same answers, and on SIGTERM finishes what is in flight.
/// </summary>
public sealed class ServeProcessTests
{
    private const string W14 = SeededCheckpoint.Model;

    [Fact]
    public async Task KilledUnderLoadAndRestartedItServesTheSameAnswersAndSigtermFinishesTheRequestsInFlight()
    {
        if (!OperatingSystem.IsLinux()) return;
        byte[] image = File.ReadAllBytes(Fixtures.Path("images", "demo", "dog.jpg"));
        string predictions = $"/predictions/{W14}";

        // 1. Started as a user would; the infer endpoint gives PyTorch's logits for the seeded input.
        string port;
        string reference;
        await using (var first = await ServeProcess.StartAsync("serve", "--model", W14, "--checkpoint", SeededCheckpoint.Path, "--urls", "http://127.0.0.1:0", "--log-format", "json"))
        {
            using var client = new HttpClient { BaseAddress = first.Url, Timeout = TimeSpan.FromSeconds(60) };
            port = first.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var info = Res2Net.Models.Res2NetModels.Create(W14).Info;
            var (logits, shape, _) = await ServingHarness.LogitsAsync(
                await client.PostAsync($"/v2/models/{W14}/infer", ServingHarness.InferBody(SeededWeights.Input(info), [1, 3, 224, 224])));
            var (expected, _) = Fixtures.Npy("seeded", W14 + ".logits.npy");
            Assert.Equal(new[] { 1, 1000 }, shape);
            var (diff, _) = Fixtures.Compare(logits, expected);
            Assert.True(diff <= Tolerances.LogitsAbsolute, $"max |logit − PyTorch| = {diff:E2}");
            reference = await (await client.PostAsync(predictions, new ByteArrayContent(image))).Content.ReadAsStringAsync();
            Assert.Contains("\"pred_label\"", reference);

            // 2. Six clients send the photo in a loop; once eight answers are in, the server is killed (SIGKILL: no goodbye).
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            int answered = 0;
            var load = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
            {
                var outcomes = new List<string>();
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        var answer = await client.PostAsync(predictions, new ByteArrayContent(image), stop.Token);
                        string text = await answer.Content.ReadAsStringAsync(stop.Token);
                        outcomes.Add(answer.IsSuccessStatusCode && text == reference ? "same" : $"{(int)answer.StatusCode} {text}");
                        Interlocked.Increment(ref answered);
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException || (e is TaskCanceledException && !stop.IsCancellationRequested))
                    {
                        outcomes.Add("connection lost");
                        break;   // the server is gone
                    }
                }
                return outcomes;
            })).ToArray();
            await ServingHarness.EventuallyAsync(() => Volatile.Read(ref answered) >= 8, "eight answers came back under load");
            first.Signal(ServeProcess.SigKill);
            Assert.Equal(128 + ServeProcess.SigKill, await first.ExitAsync());
            var outcomes = (await Task.WhenAll(load)).SelectMany(o => o).ToList();
            // Every answer that came back was the reference; the rest lost their connection (no half answer, no 5xx).
            Assert.All(outcomes, o => Assert.True(o is "same" or "connection lost", o));
            Assert.True(outcomes.Count(o => o == "same") >= 8);
            Assert.Contains("\"Category\":\"Res2Net.Serving\"", first.Log);   // --log-format json: one object per line
            var served = first.Log.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement)
                .Single(e => e.GetProperty("EventId").GetInt32() == 1);
            Assert.Equal(W14, served.GetProperty("State").GetProperty("Model").GetString());
        }

        // 3. Restarted on the same port, as a service manager restarts it: it serves the same answers again. Its batches
        // wait up to 2 s for company, so that three requests are surely in flight when SIGTERM comes.
        await using var second = await ServeProcess.StartAsync("serve", "--model", W14, "--checkpoint", SeededCheckpoint.Path, "--urls", $"http://127.0.0.1:{port}",
            "--max-delay-ms", "2000", "--max-batch", "8");
        using var again = new HttpClient { BaseAddress = second.Url, Timeout = TimeSpan.FromSeconds(60) };
        Assert.Equal(200, (int)(await again.GetAsync("/v2/health/ready")).StatusCode);
        var inFlight = Enumerable.Range(0, 3).Select(_ => again.PostAsync(predictions, new ByteArrayContent(image))).ToArray();
        var harness = new Func<Task<double>>(async () =>
        {
            string metrics = await again.GetStringAsync("/metrics");
            var line = metrics.Split('\n').Single(l => l.StartsWith($"res2net_queue_depth{{model=\"{W14}\"}} ", StringComparison.Ordinal));
            return double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        });
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await harness() < 3)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), "the three requests never queued");
            await Task.Delay(10);
        }

        // 4. SIGTERM: no new connections, but the three in flight are answered before the process ends, with exit code 0.
        second.Signal(ServeProcess.SigTerm);
        foreach (var answer in await Task.WhenAll(inFlight))
        {
            Assert.Equal(200, (int)answer.StatusCode);
            Assert.Equal(reference, await answer.Content.ReadAsStringAsync());
        }
        Assert.Equal(0, await second.ExitAsync());
        Assert.Contains("Stopping: no new connections", second.Log);
        Assert.Contains("Stopped: every queue is empty", second.Log);
    }
}
