using Res2Net.Runtime.Checkpoints;
using Xunit;
using Xunit.Abstractions;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// Thousands of mutations (bit flips, byte stamps, truncations, splices, cut-outs, duplications) of real
/// PyTorch-written checkpoints in each format. The only outcomes allowed: a load whose every tensor reads back with
/// its shape's element count, or a <see cref="CheckpointException"/> naming the file; each case must finish within a
/// generous bound (a hang fails the test) and allocate at most a small multiple of the file.
/// </summary>
public class CheckpointFuzzTests(ITestOutputHelper output)
{
    private const int Mutations = 2500;

    /// <summary>Not a speed requirement: a case that has not finished after this long is taken to hang.</summary>
    private static readonly TimeSpan CaseBound = TimeSpan.FromSeconds(20);

    public static TheoryData<string> Formats => new() { "zip", "legacy", "safetensors" };

    private static byte[] Corpus(string format) => format switch
    {
        "zip" => PyTorchSamples.ZipProtocol2,
        "legacy" => PyTorchSamples.LegacyProtocol2,
        "safetensors" => SafetensorsSamples.Native,
        _ => throw new ArgumentException(format),
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task MutatedCheckpointsLoadOrFailWithTheCheckpointException(string format)
    {
        byte[] original = Corpus(format);
        var donors = new[] { "zip", "legacy", "safetensors" }.Select(Corpus).ToArray();
        var random = new Random(20240917 + format.Length);
        int loads = 0, rejections = 0, unchanged = 0;
        var failures = new List<string>();
        var causes = new Dictionary<string, int>();

        for (int i = 0; i < Mutations; i++)
        {
            var (mutated, description) = Mutate(original, donors, random);
            if (mutated.AsSpan().SequenceEqual(original)) unchanged++;
            string name = $"fuzz-{format}-{i}.bin";
            Outcome outcome;
            string detail;
            try
            {
                (outcome, detail) = await Task.Run(() => Classify(mutated, name)).WaitAsync(CaseBound);
            }
            catch (TimeoutException)
            {
                failures.Add($"case {i} ({description}) did not finish within {CaseBound.TotalSeconds} s");
                break;
            }
            switch (outcome)
            {
                case Outcome.Loaded:
                    loads++;
                    break;
                case Outcome.Rejected:
                    rejections++;
                    string cause = detail.Length > 40 ? detail[..40] : detail;
                    causes[cause] = causes.GetValueOrDefault(cause) + 1;
                    break;
                default:
                    failures.Add($"case {i} ({description}): {detail}");
                    break;
            }
            if (failures.Count >= 5) break;
        }

        output.WriteLine($"{format}: {Mutations} mutations of a {original.Length}-byte file: {loads} loaded, {rejections} rejected ({unchanged} left the file unchanged)");
        foreach (var (cause, count) in causes.OrderByDescending(c => c.Value).Take(8)) output.WriteLine($"  {count,5} × {cause}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(Mutations, loads + rejections);
        // The corpus and mutations are fixed (seeded), so both outcomes must really occur.
        Assert.True(loads > 0 && rejections > Mutations / 10, $"{loads} loads, {rejections} rejections");
    }

    private enum Outcome { Loaded, Rejected, Failed }

    private static (Outcome, string) Classify(byte[] file, string name)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            using var checkpoint = CheckpointFile.Open(new MemoryStream(file, writable: false), name);
            foreach (var tensor in checkpoint.StateDict.Tensors)
            {
                long count = tensor.Shape.Aggregate(1L, (a, b) => a * b);
                var data = tensor.Data;
                if (data.LongLength != count) return (Outcome.Failed, $"tensor '{tensor.Name}' has {data.Length} values for shape {tensor.ShapeText}");
            }
            return CheckAllocation(before, file, (Outcome.Loaded, ""));
        }
        catch (CheckpointException e)
        {
            if (e.FilePath != name || !e.Message.StartsWith(name + ": ", StringComparison.Ordinal))
                return (Outcome.Failed, $"exception does not name the file: {e.Message}");
            return CheckAllocation(before, file, (Outcome.Rejected, e.Cause));
        }
        catch (Exception e)
        {
            return (Outcome.Failed, $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}");
        }
    }

    private static (Outcome, string) CheckAllocation(long before, byte[] file, (Outcome, string) result)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long bound = 16L * file.Length + (4L << 20);
        return allocated <= bound ? result : (Outcome.Failed, $"allocated {allocated} bytes for a {file.Length}-byte file ({result.Item1}: {result.Item2})");
    }

    /// <summary>One to three edits; half of them aimed at the start and end of the file, where headers and directories live.</summary>
    private static (byte[] Bytes, string Description) Mutate(byte[] original, byte[][] donors, Random random)
    {
        var bytes = new List<byte>(original);
        var steps = new List<string>();
        int edits = 1 + random.Next(3);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = Position(bytes.Count, random);
            switch (random.Next(7))
            {
                case 0:
                case 1:
                {
                    int bit = random.Next(8);
                    bytes[at] ^= (byte)(1 << bit);
                    steps.Add($"flip bit {bit} of byte {at}");
                    break;
                }
                case 2:
                {
                    byte[] interesting = [0x00, 0xFF, 0x7F, 0x80, 0x01, (byte)'{', (byte)'.', (byte)'('];
                    byte value = interesting[random.Next(interesting.Length)];
                    int width = 1 + random.Next(8);
                    for (int k = 0; k < width && at + k < bytes.Count; k++) bytes[at + k] = value;
                    steps.Add($"stamp {width} × 0x{value:x2} at {at}");
                    break;
                }
                case 3:
                {
                    bytes.RemoveRange(at, bytes.Count - at);
                    steps.Add($"truncate to {at}");
                    break;
                }
                case 4:
                {
                    var donor = donors[random.Next(donors.Length)];
                    int from = random.Next(donor.Length);
                    int length = Math.Min(1 + random.Next(64), donor.Length - from);
                    bool insert = random.Next(2) == 0;
                    if (insert) bytes.InsertRange(at, donor.AsSpan(from, length).ToArray());
                    else for (int k = 0; k < length && at + k < bytes.Count; k++) bytes[at + k] = donor[from + k];
                    steps.Add($"splice {length} bytes from {from} {(insert ? "into" : "over")} {at}");
                    break;
                }
                case 5:
                {
                    int length = Math.Min(1 + random.Next(32), bytes.Count - at);
                    bytes.RemoveRange(at, length);
                    steps.Add($"cut {length} bytes at {at}");
                    break;
                }
                default:
                {
                    int length = Math.Min(1 + random.Next(32), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    steps.Add($"duplicate {length} bytes at {at}");
                    break;
                }
            }
        }
        return (bytes.ToArray(), string.Join(", ", steps));
    }

    private static int Position(int length, Random random) => random.Next(4) switch
    {
        0 => random.Next(Math.Min(length, 256)),
        1 => Math.Max(0, length - 1 - random.Next(Math.Min(length, 256))),
        _ => random.Next(length),
    };
}
