using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.IO;

namespace Res2Net.Serving;

/// <summary>
/// TorchServe's inference API as mmpretrain's TorchServe handler answers it: <c>POST /predictions/{model}</c> (or
/// <c>PUT</c>, what <c>curl -T</c> sends) takes one encoded image, as the raw body or as a multipart form's one file
/// (<c>curl -F data=@kitten.jpg</c>), and answers <c>pred_label</c>, <c>pred_score</c>, <c>pred_class</c> and the top-k
/// (<c>?topk=K</c>, default 5) in the JSON of <c>res2net predict --json</c> (<see cref="PredictionJson"/>).
/// <c>GET /ping</c> is TorchServe's health check. The image is decoded and preprocessed as mmpretrain's test pipeline
/// does (<see cref="InferenceInput.FromEncoded"/>), with the decoder's pixel limit (<see cref="ImageLimits"/>).
/// </summary>
internal sealed class TorchServeApi(ModelRepository models, ServingOptions options)
{
    /// <summary>
    /// Images decoded at once, whatever the number of requests: decoding is CPU work beside the forward, and its
    /// memory is bounded further by the decoder's pixel budget.
    /// </summary>
    private readonly SemaphoreSlim _decoding = new(Environment.ProcessorCount);

    private readonly long _timeoutTicks = (long)(options.Timeout.TotalSeconds * Stopwatch.Frequency);

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/ping", context => JsonResponse.WriteAsync(context, models.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", models.Ready ? "Healthy" : "Unhealthy");
            w.WriteEndObject();
        })).WithName("ping");
        app.MapMethods("/predictions/{name}", [HttpMethods.Post, HttpMethods.Put], PredictAsync).WithName("predictions");
    }

    private async Task PredictAsync(HttpContext context, string name)
    {
        long arrived = Stopwatch.GetTimestamp();
        long deadline = arrived + _timeoutTicks;
        var batcher = models.Get(name);
        var model = batcher.Model;
        int topK = TopK(context.Request, model.Info.NumClasses);
        if (!batcher.TryAdmit()) throw ServingError.QueueFull(model.Name, batcher.Capacity, TimeSpan.FromSeconds(1));
        PendingInference pending;
        try
        {
            byte[] image = await ReadImageAsync(context).ConfigureAwait(false);
            float[] input = ArrayPool<float>.Shared.Rent(model.Info.InputElements);
            try
            {
                await DecodeAsync(image, model, input, deadline, context.RequestAborted).ConfigureAwait(false);
            }
            catch
            {
                ArrayPool<float>.Shared.Return(input);
                throw;
            }
            pending = new PendingInference(input, 1, arrived, deadline);
        }
        catch
        {
            batcher.Release();
            throw;
        }
        float[] logits = await batcher.RunAsync(pending, context.RequestAborted).ConfigureAwait(false);
        var prediction = Prediction.FromLogits(logits, model.Classifier.ClassNames, topK);
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, w => PredictionJson.Write(w, prediction)).ConfigureAwait(false);
    }

    /// <summary>Decodes and preprocesses the image into <paramref name="input"/>, at most <see cref="Environment.ProcessorCount"/> at once.</summary>
    private async Task DecodeAsync(byte[] image, ServedModel model, float[] input, long deadline, CancellationToken aborted)
    {
        var wait = TimeSpan.FromSeconds(Math.Max(0, deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
        if (!await _decoding.WaitAsync(wait, aborted).ConfigureAwait(false)) throw ServingError.DeadlineExceeded(model.Name, options.Timeout);
        try
        {
            InferenceInput.FromEncoded(image, "the image").WriteTo(model.Classifier.Preprocessing, input.AsSpan(0, model.Info.InputElements));
        }
        catch (ImageDecodeException e)
        {
            throw ServingError.BadRequest($"the image cannot be decoded: {e.Reason}");
        }
        finally
        {
            _decoding.Release();
        }
    }

    /// <summary>The image's bytes: the multipart form's one file, or else the whole body.</summary>
    private static async Task<byte[]> ReadImageAsync(HttpContext context)
    {
        var request = context.Request;
        // Only a multipart form carries files; curl --data-binary labels raw bytes application/x-www-form-urlencoded.
        if (request.HasFormContentType && request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            var form = await request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            if (form.Files.Count != 1)
            {
                throw ServingError.BadRequest(form.Files.Count == 0
                    ? "the form holds no file; send the image as its one file (curl -F data=@kitten.jpg) or as the raw body (curl --data-binary @kitten.jpg)"
                    : $"the form holds {form.Files.Count} files; send one image per request (the server batches requests itself)");
            }
            var file = form.Files[0];
            if (file.Length == 0) throw ServingError.BadRequest($"the form's file '{DisplayText.Shorten(file.FileName)}' is empty");
            var bytes = new byte[file.Length];
            await using var stream = file.OpenReadStream();
            await stream.ReadExactlyAsync(bytes, context.RequestAborted).ConfigureAwait(false);
            return bytes;
        }
        using var body = await RequestBody.ReadAsync(request, context.RequestAborted).ConfigureAwait(false);
        if (body.Length == 0)
            throw ServingError.BadRequest("the request has no body; send the image's bytes (curl --data-binary @kitten.jpg) or a form with one file (curl -F data=@kitten.jpg)");
        return body.ToArray();
    }

    /// <summary><c>?topk=K</c>: how many classes the answer lists, 1 to the number of classes; default 5 (fewer when the model has fewer classes).</summary>
    private static int TopK(HttpRequest request, int classes)
    {
        var values = request.Query["topk"];
        if (values.Count == 0) return Math.Min(5, classes);
        if (values.Count > 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k < 1 || k > classes)
            throw ServingError.BadRequest($"topk is '{DisplayText.Shorten(string.Join(",", values.ToArray()))}'; it must be a whole number from 1 to {classes}, the model's classes");
        return k;
    }
}
