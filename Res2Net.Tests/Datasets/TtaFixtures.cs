using System.Text.Json;

namespace Res2Net.Tests.Datasets;

/// <summary>
/// What PyTorch computed for mmpretrain's flip TTA (tools/reference/make_tta_fixtures.py): the averaged softmax scores
/// of every image of a set, its top-5, and whether rounding within the forward's tolerance could change them.
/// </summary>
internal static class TtaFixtures
{
    private static readonly Lazy<JsonDocument> Document = new(() => JsonDocument.Parse(File.ReadAllText(DatasetFixtures.Path("tta.json"))));

    /// <summary>"val" (tiny-plain on the 300 generated images) or "seeded" (res2net50-w14-s8, seeded, on the demo photos).</summary>
    private static JsonElement Set(string name) => Document.Value.RootElement.GetProperty(name);

    public static IReadOnlyList<TtaImage> Images(string set) =>
        Set(set).GetProperty("images").EnumerateArray().Select(e => new TtaImage(
            e.GetProperty("file").GetString()!,
            e.GetProperty("label").GetInt32(),
            e.GetProperty("topk").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            e.GetProperty("decisive").GetBoolean(),
            e.GetProperty("countDecided").GetBoolean())).ToArray();

    /// <summary>PyTorch's averaged scores, [images, classes], in the order of <see cref="Images"/>.</summary>
    public static (float[] Data, int[] Shape) Scores(string set) =>
        Res2Net.Runtime.IO.Npy.Read(DatasetFixtures.Path(Set(set).GetProperty("scores").GetString()!));

    public static (int Top1Correct, int Top5Correct, double Top1, double Top5) Accuracy(string set)
    {
        var a = Set(set).GetProperty("accuracy");
        return (a.GetProperty("top1Correct").GetInt32(), a.GetProperty("top5Correct").GetInt32(), a.GetProperty("top1").GetDouble(), a.GetProperty("top5").GetDouble());
    }
}

/// <summary>One image under flip TTA in PyTorch.</summary>
/// <param name="Decisive">Every gap among the top 6 averaged scores outlasts the score tolerance: the top-5 and its order are certain.</param>
/// <param name="CountDecided">Whether the label is top-1, and whether it is in the top 5, is certain under that tolerance.</param>
internal sealed record TtaImage(string File, int Label, int[] TopK, bool Decisive, bool CountDecided);
