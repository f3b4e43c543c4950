// A consumer of the Res2Net packages. networks/flowers.json describes a Res2Net-50 v1b (deep stem, avg_down,
// 26w×4s) for 5 flower classes at 128×128; the build turns it into the class FlowerNet, in this project's namespace.
//
//   dotnet run -c Release -- CHECKPOINT IMAGE...
//
// CHECKPOINT is what mmpretrain (or the original Res2Net code) saved for that network, or a safetensors file.
using System.Globalization;
using FlowerClassifier;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.IO;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: FlowerClassifier CHECKPOINT IMAGE...");
    return 2;
}

// The spec's numbers are constants of the generated class.
Console.WriteLine(Invariant($"{FlowerNet.ModelName}: {FlowerNet.ParamCount:N0} parameters, {FlowerNet.FlopCount:N0} FLOPs per {FlowerNet.InputWidth}x{FlowerNet.InputHeight} image"));

var network = new FlowerNet();
try
{
    // Strict, as PyTorch's load_state_dict: every missing, unexpected or misshapen tensor is listed at once.
    CheckpointLoadResult loaded = network.Load(args[0]);
    Console.WriteLine($"checkpoint: {DisplayText.Escape(args[0])} ({loaded.Summary})");

    // mmpretrain's inference_model: decode, resize the short edge, center-crop, normalize (the spec's pipeline),
    // forward; extract_feat's maps come from the same forward (0 = stem, 1-4 = layer1-layer4).
    var classifier = new ImageClassifier(network);
    var inputs = args.Skip(1).Select(InferenceInput.FromFile).ToList();
    ClassifierOutput output = classifier.Run(inputs, topK: FlowerNet.NumClasses, featureIndices: [0, 1, 2, 3, 4]);

    for (int n = 0; n < inputs.Count; n++)
    {
        Prediction p = output.Predictions[n];
        ReadOnlySpan<float> logits = output.LogitsOf(n);
        Console.WriteLine(Invariant($"{DisplayText.Escape(args[n + 1])}: {p.PredClass} ({p.PredScore:P1})"));
        foreach (ClassScore c in p.TopK)
        {
            Console.WriteLine(Invariant($"  {c.ClassName,-10} score {c.Score:F6}  logit {logits[c.Label]:F6}"));
        }
    }

    Console.WriteLine("features (extract_feat, [N, C, H, W]):");
    foreach (FeatureMap map in output.Features) Console.WriteLine($"  {map}");
    return 0;
}
catch (Exception e) when (e is CheckpointException or StateDictMismatchException or ImageDecodeException or IOException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
