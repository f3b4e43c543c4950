using System.Text.Json;
using Res2Net.Runtime.Datasets;
using Res2Net.Runtime.IO;

namespace Res2Net.Cli.Commands;

/// <summary>
/// What <c>res2net test --out</c> writes, and reads back for <c>--merge</c>: the run (model, checkpoint and its sha256,
/// dataset and the sha256 of its listing, TTA, the shard when there is one) and its <see cref="EvaluationResult"/>.
/// </summary>
/// <param name="Checkpoint">The checkpoint's path as this run read it.</param>
/// <param name="CheckpointSha256">The checkpoint file's sha256: what parts must agree on (their paths may differ between machines).</param>
/// <param name="ListingSha256">The whole listing's sha256 (<see cref="ImageDataset.ListingSha256"/>), for a shard too.</param>
internal sealed record TestResults(
    string Model,
    string Checkpoint,
    string CheckpointSha256,
    string Data,
    DatasetLayout Layout,
    string? AnnotationFile,
    IReadOnlyList<string>? Classes,
    string ListingSha256,
    bool FlipTta,
    DatasetShard? Shard,
    EvaluationResult Result);

/// <summary>The JSON file of <see cref="TestResults"/>: written atomically, read back with every field checked.</summary>
internal static class TestResultsFile
{
    /// <summary>What <see cref="Write"/> writes: a JSON object whose first properties are "model" and "checkpoint".</summary>
    public static readonly OutputKind Kind = new("a results file of 'res2net test' (JSON starting with \"model\" and \"checkpoint\")", IsResultsFile);

    /// <summary>Results files larger than this are not read back (a 50000-image ImageNet run writes about 15 MB).</summary>
    private const long MaxBytes = 1L << 30;

    public static void Write(string path, TestResults run)
    {
        var result = run.Result;
        using var file = AtomicFileWriter.Create(path);
        using (var w = new Utf8JsonWriter(file.Stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model", run.Model);
            w.WriteString("checkpoint", run.Checkpoint);
            w.WriteString("checkpoint_sha256", run.CheckpointSha256);
            w.WriteString("data", run.Data);
            w.WriteString("layout", run.Layout == DatasetLayout.ImageFolder ? "ImageFolder" : "annotation file");
            w.WriteString("tta", run.FlipTta ? "flip" : "none");
            if (run.AnnotationFile != null) w.WriteString("ann_file", run.AnnotationFile);
            if (run.Classes != null)
            {
                w.WriteStartArray("classes");
                foreach (var c in run.Classes) w.WriteStringValue(c);
                w.WriteEndArray();
            }
            w.WriteString("listing_sha256", run.ListingSha256);
            if (run.Shard is { } shard)
            {
                w.WriteStartObject("shard");
                w.WriteNumber("index", shard.Index);
                w.WriteNumber("count", shard.Count);
                w.WriteNumber("listing_images", shard.ListingCount);
                w.WriteEndObject();
            }
            w.WriteStartObject("metrics");
            w.WriteFloat("accuracy/top1", Math.Round(result.Top1, 4));
            w.WriteFloat("accuracy/top5", Math.Round(result.Top5, 4));
            w.WriteEndObject();
            w.WriteNumber("total", result.Total);
            w.WriteNumber("evaluated", result.Evaluated);
            w.WriteNumber("top1_correct", result.Top1Correct);
            w.WriteNumber("top5_correct", result.Top5Correct);
            w.WriteFloat("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
            w.WriteFloat("images_per_second", Math.Round(result.ImagesPerSecond, 1));
            w.WriteStartArray("skipped");
            foreach (var s in result.Skipped)
            {
                w.WriteStartObject();
                w.WriteNumber("index", s.Index);
                w.WriteString("file", s.RelativePath);
                w.WriteString("reason", s.Reason);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("samples");
            foreach (var s in result.Samples)
            {
                w.WriteStartObject();
                w.WriteNumber("index", s.Index);
                w.WriteString("file", s.RelativePath);
                w.WriteNumber("gt_label", s.Label);
                w.WriteNumber("pred_label", s.PredLabel);
                w.WriteFloat("pred_score", s.Scores[0]);
                w.WriteStartArray("topk");
                foreach (int label in s.TopK) w.WriteNumberValue(label);
                w.WriteEndArray();
                w.WriteStartArray("scores");
                foreach (float score in s.Scores) w.WriteFloatValue(score);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        file.Commit();
    }

    /// <summary>Reads a file <see cref="Write"/> wrote.</summary>
    /// <exception cref="CliException">The file is missing, not JSON, not a results file, or a field is missing or of the wrong type (named).</exception>
    public static TestResults Read(string path)
    {
        if (Directory.Exists(path)) throw new CliException($"{path} is a folder; --merge takes the results files of 'res2net test --shard K/N --out FILE'.");
        if (!File.Exists(path)) throw new CliException($"{path} does not exist.");
        if (new FileInfo(path).Length > MaxBytes) throw new CliException($"{path} is larger than {MaxBytes >> 20} MiB; it is not a results file of 'res2net test'.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new CliException($"{path} is not JSON ({e.Message}); --merge takes the results files of 'res2net test --shard K/N --out FILE'.");
        }
        using (document)
        {
            var root = new Field(path, "", document.RootElement);
            if (root.Element.ValueKind != JsonValueKind.Object || !root.Element.TryGetProperty("model", out _) || !root.Element.TryGetProperty("checkpoint", out _))
                throw new CliException($"{path} is not a results file of 'res2net test' (a JSON object starting with \"model\" and \"checkpoint\").");
            string layout = root["layout"].String();
            var shardField = root.Optional("shard");
            var shard = shardField == null ? null
                : new DatasetShard(shardField.Value["index"].Int(), shardField.Value["count"].Int(), shardField.Value["listing_images"].Int());
            var samples = root["samples"].Items().Select(s => new SampleResult(
                    s["file"].String(), s["gt_label"].Int(), s["topk"].Items().Select(t => t.Int()).ToArray(), s["scores"].Items().Select(t => t.Float()).ToArray())
                { Index = s["index"].Int() })
                .ToList();
            string data = root["data"].String();
            var skipped = root["skipped"].Items().Select(s => new SkippedImage(Path.GetFullPath(Path.Combine(data, s["file"].String())), s["file"].String(),
                    s["reason"].String()) { Index = s["index"].Int() })
                .ToList();
            foreach (var bad in samples.Where(s => s.TopK.Length == 0 || s.TopK.Length != s.Scores.Length))
                throw new CliException($"{path}: sample {bad.Index} ({bad.RelativePath}) has {bad.TopK.Length} labels in \"topk\" and {bad.Scores.Length} \"scores\".");
            var result = new EvaluationResult(root["total"].Int(), samples, skipped, TimeSpan.FromSeconds(root["seconds"].Double()), numClasses: 0, logits: null);
            return new TestResults(
                root["model"].String(), root["checkpoint"].String(), root["checkpoint_sha256"].String(), data,
                layout switch
                {
                    "ImageFolder" => DatasetLayout.ImageFolder,
                    "annotation file" => DatasetLayout.AnnotationFile,
                    _ => throw new CliException($"{path}: \"layout\" is '{DisplayText.Shorten(layout)}'; expected 'ImageFolder' or 'annotation file'."),
                },
                root.Optional("ann_file")?.String(), root.Optional("classes")?.Items().Select(c => c.String()).ToArray(),
                root["listing_sha256"].String(), root["tta"].String() == "flip", shard, result);
        }
    }

    private static bool IsResultsFile(byte[] head, long length)
    {
        try
        {
            var json = new Utf8JsonReader(head, isFinalBlock: head.Length == length, state: default);
            return json.Read() && json.TokenType == JsonTokenType.StartObject
                && json.Read() && json.ValueTextEquals("model") && json.Read() && json.TokenType == JsonTokenType.String
                && json.Read() && json.ValueTextEquals("checkpoint");
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A value of the file with its place (<c>"samples"[3]."topk"</c>), so that a missing or mistyped field is named.</summary>
    private readonly record struct Field(string File, string Where, JsonElement Element)
    {
        public Field this[string name] => Optional(name) ?? throw Error($"has no \"{name}\"");

        public Field? Optional(string name) =>
            Element.ValueKind == JsonValueKind.Object && Element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
                ? new Field(File, $"{Where}.\"{name}\"".TrimStart('.'), value)
                : null;

        public IEnumerable<Field> Items()
        {
            if (Element.ValueKind != JsonValueKind.Array) throw Error("is not an array");
            var (file, where) = (File, Where);
            return Element.EnumerateArray().Select((e, i) => new Field(file, $"{where}[{i}]", e)).ToArray();
        }

        public string String() => Element.ValueKind == JsonValueKind.String ? Element.GetString()! : throw Error("is not a string");

        public int Int() => Element.ValueKind == JsonValueKind.Number && Element.TryGetInt32(out int v) ? v : throw Error("is not an integer");

        public double Double() => Element.ValueKind == JsonValueKind.Number ? Element.GetDouble() : throw Error("is not a number");

        /// <summary>A score: a number, or one of the strings <see cref="JsonFloats"/> writes for NaN and the infinities.</summary>
        public float Float() => Element.ValueKind switch
        {
            JsonValueKind.Number => Element.GetSingle(),
            JsonValueKind.String when Element.GetString() is "NaN" => float.NaN,
            JsonValueKind.String when Element.GetString() is "Infinity" => float.PositiveInfinity,
            JsonValueKind.String when Element.GetString() is "-Infinity" => float.NegativeInfinity,
            _ => throw Error("is not a number"),
        };

        private CliException Error(string what) =>
            new($"{File}: {(Where.Length == 0 ? "the document" : Where)} {what}; is it a results file of 'res2net test --out'?");
    }
}
