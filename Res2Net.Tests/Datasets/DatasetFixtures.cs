using System.Text.Json;
using Res2Net.Runtime.Networks;

namespace Res2Net.Tests.Datasets;

/// <summary>
/// The generated datasets and what PyTorch computed on them (tools/reference/make_dataset_fixtures.py), in
/// Fixtures/dataset beside the test assembly.
/// </summary>
internal static class DatasetFixtures
{
    public static string Path(string relative) =>
        System.IO.Path.GetFullPath(System.IO.Path.Combine([AppContext.BaseDirectory, "Fixtures", "dataset", .. relative.Split('/')]));

    private static readonly Lazy<JsonDocument> Document = new(() => JsonDocument.Parse(File.ReadAllText(Path("expected.json"))));

    public static JsonElement Root => Document.Value.RootElement;

    /// <summary>"val" (annotation-file layout), "folder" (ImageFolder layout) or "seeded" (the demo photos under a seed network).</summary>
    public static JsonElement Set(string name) => Root.GetProperty(name);

    public static string DataDir(string set) => Path(Set(set).GetProperty("data").GetString()!);

    public static string AnnFile(string set) => Path(Set(set).GetProperty("annFile").GetString()!);

    public static IReadOnlyList<ExpectedImage> Images(string set) =>
        Set(set).GetProperty("images").EnumerateArray().Select(e => new ExpectedImage(
            e.GetProperty("file").GetString()!,
            e.GetProperty("label").GetInt32(),
            e.GetProperty("topk").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            e.GetProperty("scores").EnumerateArray().Select(x => x.GetSingle()).ToArray(),
            e.GetProperty("minGap").GetDouble())).ToArray();

    public static (int Count, int Top1Correct, int Top5Correct, double Top1, double Top5) Accuracy(string set)
    {
        var a = Set(set).GetProperty("accuracy");
        return (a.GetProperty("count").GetInt32(), a.GetProperty("top1Correct").GetInt32(), a.GetProperty("top5Correct").GetInt32(),
            a.GetProperty("top1").GetDouble(), a.GetProperty("top5").GetDouble());
    }

    /// <summary>PyTorch's logits of a set, [images, classes], in the order of <see cref="Images"/>.</summary>
    public static (float[] Data, int[] Shape) Logits(string set) => Res2Net.Runtime.IO.Npy.Read(Path(Set(set).GetProperty("logits").GetString()!));

    /// <summary>tiny-plain with its PyTorch-saved checkpoint, the network every tiny-plain fixture was computed with.</summary>
    public static CompiledNetwork TinyPlain()
    {
        var network = Res2Net.Tests.Networks.Res2NetModels.Create("tiny-plain");
        network.Load(Fixtures.Path("tiny-plain.pth"));
        return network;
    }
}

/// <summary>One image of a fixture set: its label and PyTorch's top-5 labels and softmax scores.</summary>
/// <param name="MinGap">The smallest gap between consecutive logits among PyTorch's top 6 (the script keeps it above 1e-2).</param>
internal sealed record ExpectedImage(string File, int Label, int[] TopK, float[] Scores, double MinGap);
