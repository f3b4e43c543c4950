using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;
using Res2Net.Tests.Checkpoints;
using Res2Net.Tests.Networks;
using Xunit;

namespace Res2Net.Tests.Forward;

/// <summary>
/// Loading new weights into a network that is serving: forwards running meanwhile must each use one complete weight
/// set (the old or the new), never a mix and never "no weights are loaded"; a load that fails leaves the old weights
/// serving. The two sets are tiny-plain.pth and its float16 rounding (tiny-plain.fp16.pth), whose logits differ;
/// "equal" below is bitwise, against the logits of a network that only ever held that set.
/// </summary>
public class LoadWhileForwardingTests
{
    private static readonly string SetA = Fixtures.Path("tiny-plain.pth");
    private static readonly string SetB = Fixtures.Path("tiny-plain.fp16.pth");

    private static (float[] Input, float[] LogitsA, float[] LogitsB) Reference()
    {
        var (input, _) = Fixtures.Npy("tiny-plain.input.npy");
        float[] Alone(string set)
        {
            var network = Res2NetModels.Create("tiny-plain");
            network.Load(set);
            return network.Forward(input, batch: 2);
        }
        var a = Alone(SetA);
        var b = Alone(SetB);
        Assert.False(a.AsSpan().SequenceEqual(b), "the two weight sets must give different logits, or a mix could pass unseen");
        return (input, a, b);
    }

    /// <summary>The weights of <see cref="SetA"/>, but reading the classifier's bias (the last tensor bound) fails.</summary>
    private static Dictionary<string, CheckpointTensor> FailingAtTheLastTensor()
    {
        var good = CheckpointReader.Read(SetA);
        var tensors = good.Tensors.ToDictionary(t => t.Name, t => t, StringComparer.Ordinal);
        var bias = tensors["head.fc.bias"];
        tensors["head.fc.bias"] = new CheckpointTensor(bias.Name, bias.Shape, bias.SourceDType,
            () => throw new CheckpointException("failing.pth", "tensor 'head.fc.bias' cannot be read"));
        return tensors;
    }

    private static string DamagedCopy()
    {
        byte[] file = File.ReadAllBytes(SetA);
        var (offset, length, _) = ZipEntryBytes.Locate(file, "tiny-plain/data/0");
        file[offset + length / 2] ^= 0x04;
        string path = Path.Combine(Path.GetTempPath(), $"res2net-damaged-{Guid.NewGuid():n}.pth");
        File.WriteAllBytes(path, file);
        return path;
    }

    [Fact]
    public void ForwardsDuringLoadsSeeOneCompleteWeightSetAndNeverFail()
    {
        var (input, logitsA, logitsB) = Reference();
        var network = Res2NetModels.Create("tiny-plain");
        network.Load(SetA);
        string damaged = DamagedCopy();
        var failing = FailingAtTheLastTensor();
        var problems = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int forwards = 0, sawA = 0, sawB = 0;
        using var stop = new CancellationTokenSource();

        void Forwarding()
        {
            var logits = new float[logitsA.Length];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    network.Forward(input, 2, logits);
                    if (logits.AsSpan().SequenceEqual(logitsA)) Interlocked.Increment(ref sawA);
                    else if (logits.AsSpan().SequenceEqual(logitsB)) Interlocked.Increment(ref sawB);
                    else problems.Enqueue("logits equal neither weight set's");
                }
                catch (Exception e)
                {
                    problems.Enqueue($"{e.GetType().Name}: {e.Message}");
                }
                Interlocked.Increment(ref forwards);
            }
        }

        var threads = Enumerable.Range(0, 3).Select(_ => new Thread(Forwarding)).ToList();
        threads.ForEach(t => t.Start());
        try
        {
            for (int round = 0; round < 12; round++)
            {
                network.Load(round % 2 == 0 ? SetB : SetA);
                // Failing loads between the good ones: a damaged file (fails on the first tensor) and one that fails
                // on the last tensor, after every other weight was read.
                Assert.Throws<CheckpointException>(() => network.Load(damaged));
                Assert.Throws<CheckpointException>(() => network.Load(failing, "failing.pth"));
                SpinWait.SpinUntil(() => Volatile.Read(ref forwards) > 2 * (round + 1), TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            stop.Cancel();
            threads.ForEach(t => t.Join());
            File.Delete(damaged);
        }

        Assert.True(problems.IsEmpty, $"{problems.Count} of {forwards} forwards went wrong, e.g. {problems.FirstOrDefault()}");
        Assert.True(sawA > 0 && sawB > 0, $"forwards saw set A {sawA} times and set B {sawB} times; both must have served");
        // The last good load was set A (round 11); the failing loads after it changed nothing.
        Assert.Equal(SetA, network.CheckpointSource);
        Assert.True(network.Forward(input, 2).AsSpan().SequenceEqual(logitsA));
    }

    [Fact]
    public void FailedLoadLeavesTheOldWeightsServing()
    {
        var (input, logitsA, _) = Reference();
        var network = Res2NetModels.Create("tiny-plain");
        network.Load(SetA);

        Assert.Throws<CheckpointException>(() => network.Load(FailingAtTheLastTensor(), "failing.pth"));

        Assert.True(network.IsLoaded);
        Assert.Equal(SetA, network.CheckpointSource);
        Assert.True(network.Forward(input, 2).AsSpan().SequenceEqual(logitsA), "a failed load changed the weights");
    }

    [Fact]
    public void FailedFirstLoadLeavesTheNetworkUnloaded()
    {
        var network = Res2NetModels.Create("tiny-plain");
        Assert.Throws<CheckpointException>(() => network.Load(FailingAtTheLastTensor(), "failing.pth"));
        Assert.False(network.IsLoaded);
        Assert.Null(network.CheckpointSource);
        var error = Assert.Throws<InvalidOperationException>(() => network.Forward(new float[2 * network.Info.InputElements], 2));
        Assert.Contains("no weights are loaded", error.Message);
    }
}
