/* SPDX-License-Identifier: MIT
 *
 * `aigc eval speech`: the word error rate of the pocketsphinx recogniser on spoken sentences —
 * recordings in a folder (the teacher corpus: the reference every voice is compared to), named
 * by the sentence list's ids — or sentences synthesised here by a voice and a vocoder. With both
 * a voice and the recordings, the mel cepstral distortion between them is reported too. A
 * vocoder alone re-synthesises each recording from its own mel spectrogram (copy synthesis), the
 * vocoder's quality apart from any voice.
 */
#include "aigc-cli.h"

#include "dsp/aigc-speech-eval.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char *id;
    char *text;
} Sentence;

static void sentence_clear(gpointer data)
{
    Sentence *s = data;
    g_free(s->id);
    g_free(s->text);
}

/* "ID|text" lines (the corpus lists) or plain lines (ids are then the line numbers, 00000…). */
static GArray *read_sentences(const char *path, int limit, GError **error)
{
    g_autofree char *contents = NULL;
    if (!g_file_get_contents(path, &contents, NULL, error))
        return NULL;
    if (!g_utf8_validate(contents, -1, NULL)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not UTF-8 text", path);
        return NULL;
    }
    GArray *out = g_array_new(FALSE, TRUE, sizeof(Sentence));
    g_array_set_clear_func(out, sentence_clear);
    g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);
    for (int i = 0; lines[i] && (limit <= 0 || (int)out->len < limit); i++) {
        char *line = g_strstrip(lines[i]);
        if (!*line)
            continue;
        Sentence s;
        char *bar = strchr(line, '|');
        if (bar) {
            s.id = g_strndup(line, bar - line);
            s.text = g_strdup(bar + 1);
        } else {
            s.id = g_strdup_printf("%05u", out->len);
            s.text = g_strdup(line);
        }
        g_array_append_val(out, s);
    }
    return out;
}

typedef struct {
    AigcTacotron2 *voice;
    AigcVocoder *vocoder;
    AigcMelAnalyzer *analyzer;
    char *tmp_dir;
    double mcd_sum;
    int mcd_n;
    double audio_seconds, compute_seconds;
} Synth;

/* Writes samples into tmp_dir/ID.wav (16 kHz PCM). Returns the path. */
static char *write_tmp_wav(Synth *s, const char *id, const float *samples, gint64 n_samples,
                           int sample_rate, GError **error)
{
    g_autofree char *name = g_strconcat(id, ".wav", NULL);
    char *wav = g_build_filename(s->tmp_dir, name, NULL);
    AigcWavWriteParams wp = aigc_wav_write_default_params();
    wp.sample_rate_out = 16000;
    if (!aigc_audio_file_write_wav(wav, samples, n_samples, sample_rate, &wp, error)) {
        g_free(wav);
        return NULL;
    }
    return wav;
}

/* Adds the MCD of the WAV `wav` against the recording `reference`. */
static gboolean add_mcd(Synth *s, const char *wav, const char *reference, GError **error)
{
    gint64 n_ref, n_syn;
    g_autofree float *ref =
        aigc_mel_analyzer_run_file(s->analyzer, reference, &n_ref, NULL, NULL, error);
    g_autofree float *syn =
        ref ? aigc_mel_analyzer_run_file(s->analyzer, wav, &n_syn, NULL, NULL, error) : NULL;
    if (!syn)
        return FALSE;
    int n_mels = aigc_mel_analyzer_get_features(s->analyzer)->n_mels;
    s->mcd_sum += aigc_mel_cepstral_distortion(syn, (int)n_syn, ref, (int)n_ref, n_mels, 13);
    s->mcd_n++;
    return TRUE;
}

/* Copy synthesis: the recording's own mel spectrogram through the vocoder, into tmp_dir/ID.wav;
 * adds its MCD against the recording. Returns the WAV's path. */
static char *resynthesise(Synth *s, const char *id, const char *recording, GError **error)
{
    gint64 n_frames, n_samples;
    g_autofree float *mel =
        aigc_mel_analyzer_run_file(s->analyzer, recording, &n_frames, NULL, NULL, error);
    if (!mel)
        return NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autofree float *samples =
        aigc_vocoder_synthesize(s->vocoder, mel, n_frames, NULL, &n_samples, error);
    if (!samples)
        return NULL;
    int rate = aigc_vocoder_get_features(s->vocoder)->sample_rate;
    s->compute_seconds += (g_get_monotonic_time() - t0) / (double)G_USEC_PER_SEC;
    s->audio_seconds += n_samples / (double)rate;
    char *wav = write_tmp_wav(s, id, samples, n_samples, rate, error);
    if (wav && !add_mcd(s, wav, recording, error))
        g_clear_pointer(&wav, g_free);
    return wav;
}

/* Synthesises one sentence into tmp_dir/ID.wav (16 kHz PCM); adds its MCD against the
 * recording `reference` (nullable). Returns the WAV's path. */
static char *synthesise(Synth *s, const char *id, const char *text, const char *reference,
                        GError **error)
{
    AigcSpeakParams p = aigc_speak_default_params();
    p.text = text;
    g_autoptr(AigcJob) job = aigc_speak_job_new(s->voice, s->vocoder, &p, error);
    if (!job)
        return NULL;
    if (aigc_cli_run_job_full(job, NULL, NULL, TRUE) != AIGC_EXIT_OK) {
        const GError *e = aigc_job_get_error(job);
        g_set_error(error, AIGC_ENGINE_ERROR, AIGC_ENGINE_ERROR_FAILED, "%s: %s", id,
                    e ? e->message : "stopped");
        return NULL;
    }
    AigcSpeakResult *r = aigc_job_get_result(job);
    s->audio_seconds += r->n_samples / (double)r->sample_rate;
    s->compute_seconds += r->seconds;
    char *wav = write_tmp_wav(s, id, r->samples, r->n_samples, r->sample_rate, error);
    if (wav && reference && g_file_test(reference, G_FILE_TEST_EXISTS) &&
        !add_mcd(s, wav, reference, error))
        g_clear_pointer(&wav, g_free);
    return wav;
}

int aigc_cmd_eval_speech(int argc, char **argv)
{
    g_autofree char *file = NULL, *audio_dir = NULL, *voice_name = NULL, *vocoder_name = NULL,
                    *keep_dir = NULL;
    int limit = 0;
    GOptionEntry entries[] = {
        {"file", 'f', 0, G_OPTION_ARG_FILENAME, &file,
         "Sentences, one per line (“ID|text” or plain)", "FILE"},
        {"audio-dir", 0, 0, G_OPTION_ARG_FILENAME, &audio_dir,
         "Recordings ID.wav of the sentences (16 kHz mono), e.g. the teacher corpus", "DIR"},
        {"voice", 'v', 0, G_OPTION_ARG_STRING, &voice_name,
         "Synthesise the sentences with this voice (Tacotron 2) instead of reading recordings",
         "NAME"},
        {"vocoder", 'c', 0, G_OPTION_ARG_STRING, &vocoder_name,
         "The voice's vocoder, or griffin-lim (griffin-lim); without --voice, re-synthesise the "
         "recordings of --audio-dir from their mel spectrograms",
         "NAME"},
        {"n", 'n', 0, G_OPTION_ARG_INT, &limit, "Only the first N sentences", "N"},
        {"keep", 0, 0, G_OPTION_ARG_FILENAME, &keep_dir,
         "Keep the synthesised WAVs (ID.wav) in DIR, to listen to what was heard", "DIR"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_option_context_set_summary(
        context, "Word error rate of the open-source recogniser pocketsphinx on spoken sentences "
                 "(lower is better): recordings (--audio-dir) or speech synthesised by --voice "
                 "and --vocoder; with both, also the mel cepstral distortion of the synthesis "
                 "against the recordings (mcd, dB). --vocoder with --audio-dir alone measures "
                 "the vocoder by itself: each recording re-synthesised from its own mel "
                 "spectrogram. Prints each sentence's errors; the last line is “wer: X”.");
    g_option_context_add_main_entries(context, entries, NULL);
    int status;
    if (!aigc_cli_parse(context, "eval speech", &argc, &argv, &status))
        return status;
    if (argc != 1)
        return aigc_cli_usage_error("eval speech", "unexpected argument “%s”", argv[1]);
    if (!file || (!audio_dir && !voice_name))
        return aigc_cli_usage_error("eval speech",
                                    "needs --file SENTENCES and --audio-dir DIR or --voice NAME");
    if (vocoder_name && !voice_name && !audio_dir)
        return aigc_cli_usage_error("eval speech",
                                    "--vocoder needs --voice or the recordings of --audio-dir");
    if (keep_dir && !voice_name && !vocoder_name)
        return aigc_cli_usage_error("eval speech", "--keep needs --voice or --vocoder");
    GError *error = NULL;
    Synth synth = {0};
    g_autoptr(AigcTacotron2) voice = NULL;
    g_autoptr(AigcVocoder) vocoder = NULL;
    g_autoptr(AigcMelAnalyzer) analyzer = NULL;
    if (voice_name || vocoder_name) {
        if (voice_name) {
            g_autoptr(AigcModelInfo) info = aigc_models_find(voice_name, &error);
            voice = info ? aigc_tacotron2_load_file(info->path, &error) : NULL;
        }
        vocoder =
            voice || !voice_name
                ? aigc_vocoder_load(vocoder_name ? vocoder_name : AIGC_VOCODER_GRIFFIN_LIM, &error)
                : NULL;
        /* Copy synthesis analyses the recordings as the vocoder was trained to hear them. */
        AigcSpeechFeatures f = voice || !vocoder ? aigc_speech_features_default()
                                                 : *aigc_vocoder_get_features(vocoder);
        analyzer = vocoder ? aigc_mel_analyzer_new(&f, &error) : NULL;
        if (!analyzer) {
            status = aigc_cli_fail(error);
            g_error_free(error);
            return status;
        }
        if (keep_dir && g_mkdir_with_parents(keep_dir, 0755) != 0) {
            int e = errno;
            fprintf(stderr, "aigc: %s: %s\n", keep_dir, g_strerror(e));
            return AIGC_EXIT_FAILURE;
        }
        synth = (Synth){.voice = voice,
                        .vocoder = vocoder,
                        .analyzer = analyzer,
                        .tmp_dir = keep_dir ? g_strdup(keep_dir)
                                            : g_dir_make_tmp("aigc-eval-speech-XXXXXX", NULL)};
    }
    if (!aigc_asr_available(&error)) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    g_autoptr(GArray) sentences = read_sentences(file, limit, &error);
    if (!sentences) {
        status = aigc_cli_fail(error);
        g_error_free(error);
        return status;
    }
    if (sentences->len == 0) {
        fprintf(stderr, "aigc: %s: no sentences\n", file);
        return AIGC_EXIT_FAILURE;
    }
    int errors = 0, words = 0;
    for (guint i = 0; i < sentences->len; i++) {
        Sentence *s = &g_array_index(sentences, Sentence, i);
        g_autofree char *name = g_strconcat(s->id, ".wav", NULL);
        g_autofree char *recording = audio_dir ? g_build_filename(audio_dir, name, NULL) : NULL;
        g_autofree char *wav = voice     ? synthesise(&synth, s->id, s->text, recording, &error)
                               : vocoder ? resynthesise(&synth, s->id, recording, &error)
                                         : g_strdup(recording);
        g_autofree char *heard = wav ? aigc_asr_transcribe(wav, NULL, &error) : NULL;
        if (vocoder && wav && !keep_dir)
            g_remove(wav);
        if (!heard) {
            if (synth.tmp_dir && !keep_dir)
                g_rmdir(synth.tmp_dir);
            g_free(synth.tmp_dir);
            status = aigc_cli_fail(error);
            g_error_free(error);
            return status;
        }
        int n, e = aigc_word_errors(s->text, heard, &n);
        errors += e;
        words += n;
        printf("%s: %d/%d errors · %s\n", s->id, e, n, heard);
        fflush(stdout);
    }
    if (synth.tmp_dir) {
        if (!keep_dir)
            g_rmdir(synth.tmp_dir);
        g_free(synth.tmp_dir);
        printf("voice: %s\nvocoder: %s\nreal_time_factor: %.3f\n",
               voice_name ? voice_name : "(copy synthesis of the recordings)",
               vocoder_name ? vocoder_name : AIGC_VOCODER_GRIFFIN_LIM,
               synth.compute_seconds / MAX(synth.audio_seconds, 1e-9));
        if (synth.mcd_n > 0)
            printf("mcd: %.2f\n", synth.mcd_sum / synth.mcd_n);
    }
    printf("sentences: %u\nwords: %d\nerrors: %d\n", sentences->len, words, errors);
    printf("wer: %.4f\n", words ? (double)errors / words : 0.0);
    return AIGC_EXIT_OK;
}
