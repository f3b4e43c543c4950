using System.Globalization;
using System.Text.RegularExpressions;
using Res2Net.Runtime.Datasets;
using Res2Net.Runtime.IO;

namespace Res2Net.Cli.Commands;

/// <summary>
/// Sharded evaluation: <c>test --shard K/N --out part-K.json</c> evaluates images K, K+N, K+2N, … of the listing
/// (<see cref="ImageDataset.Shard"/>), and <c>test --merge part-*.json</c> puts the parts back together. A merge is refused
/// unless the parts come from one run: the same model, checkpoint (by sha256), listing (by sha256), TTA and N, each
/// shard 0 to N-1 exactly once, each complete.
/// </summary>
internal static partial class TestShards
{
    /// <summary>The most shards a listing is split into: more would leave most of them empty on any real dataset.</summary>
    public const int MaxCount = 100_000;

    /// <summary>Parses <c>K/N</c>: shard K (0 to N-1, as Kubernetes' JOB_COMPLETION_INDEX counts) of N.</summary>
    /// <exception cref="CliException">Not of that form, or K is not below N.</exception>
    public static (int Index, int Count) Parse(string text)
    {
        var match = ShardPattern().Match(text);
        if (!match.Success
            || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int count))
        {
            throw new CliException($"--shard takes K/N, shard K (counted from 0) of N, e.g. --shard 0/4; got '{DisplayText.Shorten(text)}'.");
        }
        if (count < 1 || count > MaxCount) throw new CliException($"--shard {index}/{count}: N must be between 1 and {MaxCount}.");
        if (index >= count) throw new CliException($"--shard {index}/{count}: K counts from 0, so it must be below N (0 to {count - 1}).");
        return (index, count);
    }

    [GeneratedRegex(@"^\s*(\d{1,9})\s*/\s*(\d{1,9})\s*$")]
    private static partial Regex ShardPattern();

    /// <summary>Checks that <paramref name="parts"/> are the N shards of one run, and combines them into that run's results.</summary>
    /// <exception cref="CliException">Names the parts that differ, the shards given twice or missing, or a part that is incomplete.</exception>
    public static TestResults Merge(IReadOnlyList<(string Path, TestResults Run)> parts)
    {
        if (parts.Count == 0) throw new CliException("--merge needs the part files (e.g. --merge part-*.json).");
        foreach (var (path, run) in parts)
        {
            if (run.Shard == null)
                throw new CliException($"{path} is the result of a whole run, not of a shard (it was written without --shard); merge only the parts of one sharded run.");
        }
        var (firstPath, first) = parts[0];
        foreach (var (path, run) in parts.Skip(1))
        {
            Same(firstPath, path, "model", first.Model, run.Model);
            Same(firstPath, path, "checkpoint (sha256)", first.CheckpointSha256, run.CheckpointSha256);
            Same(firstPath, path, "dataset listing (sha256)", first.ListingSha256, run.ListingSha256);
            Same(firstPath, path, "tta", first.FlipTta ? "flip" : "none", run.FlipTta ? "flip" : "none");
            Same(firstPath, path, "shard count N", first.Shard!.Count.ToString(CultureInfo.InvariantCulture), run.Shard!.Count.ToString(CultureInfo.InvariantCulture));
            Same(firstPath, path, "listing size", first.Shard.ListingCount.ToString(CultureInfo.InvariantCulture), run.Shard.ListingCount.ToString(CultureInfo.InvariantCulture));
        }

        int count = first.Shard!.Count, listing = first.Shard.ListingCount;
        var byIndex = new Dictionary<int, string>();
        foreach (var (path, run) in parts)
        {
            if (byIndex.TryGetValue(run.Shard!.Index, out string? other))
                throw new CliException($"{other} and {path} are both shard {run.Shard.Index}/{count}; give each shard once.");
            byIndex.Add(run.Shard.Index, path);
        }
        var missing = Enumerable.Range(0, count).Where(i => !byIndex.ContainsKey(i)).ToList();
        if (missing.Count > 0)
        {
            string list = string.Join(", ", missing.Take(10)) + (missing.Count > 10 ? $", … ({missing.Count} in all)" : "");
            throw new CliException($"shard{(missing.Count == 1 ? "" : "s")} {list} of {count} {(missing.Count == 1 ? "is" : "are")} missing; " +
                                   $"the merge needs all {count} parts of the run.");
        }

        foreach (var (path, run) in parts)
        {
            // A part holds exactly the images of its shard: index K, K+N, … below the listing's size, each once.
            var result = run.Result;
            var indices = result.Samples.Select(s => s.Index).Concat(result.Skipped.Select(s => s.Index)).Order().ToList();
            var expected = Enumerable.Range(0, listing).Where(i => i % count == run.Shard!.Index).ToList();
            if (!indices.SequenceEqual(expected) || result.Total != expected.Count)
            {
                throw new CliException($"{path} does not hold the {expected.Count} images of shard {run.Shard}: it lists {indices.Count} " +
                                       $"(total {result.Total}); was it cut short or edited?");
            }
        }

        var ordered = parts.OrderBy(p => p.Run.Shard!.Index).ToList();
        var merged = EvaluationResult.Combine(ordered.Select(p => p.Run.Result).ToList());
        return first with { Shard = null, Result = merged };
    }

    private static void Same(string firstPath, string path, string what, string a, string b)
    {
        if (a != b)
        {
            throw new CliException($"{path} and {firstPath} are not parts of one run: their {what} differ ({DisplayText.Shorten(b)} and {DisplayText.Shorten(a)}). " +
                                   "Merge only the parts of one 'res2net test --shard K/N' run.");
        }
    }
}
